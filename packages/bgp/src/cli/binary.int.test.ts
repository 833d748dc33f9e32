// The built margay-bgpd, spawned as a process: comes up, serves its API, reloads on SIGHUP,
// exits 0 on SIGTERM.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, makeTempDir, removeTempDir } from '@margay/testkit';
import { BgpApiClient } from '../api/client';
import { endpoint, until } from '../server/speaker.fixture';

jest.setTimeout(60_000);

const BINARY = join(__dirname, '..', '..', '..', '..', 'bin', 'margay-bgpd');
const BUILT = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

let dir: string | undefined;
let child: ChildProcess | undefined;
let client: BgpApiClient | undefined;

afterAll(async () => {
  client?.close();
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dir) await removeTempDir(dir);
});

test('margay-bgpd runs from its config, reloads on SIGHUP and exits 0 on SIGTERM', async () => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run pnpm -s build first`);
  dir = await makeTempDir('bgpd-binary');
  const at = await endpoint();
  const apiPort = await freePort(at.address);
  const file = join(dir, 'bgpd.yaml');
  const config = (originate: string) =>
    `asNumber: 65000\nrouterId: 10.255.0.1\nlisten: { address: ${at.address}, port: ${at.port} }\n` +
    `api: ${at.address}:${apiPort}\noriginate: [${originate}]\n`;
  await writeFile(file, config('10.1.0.0/24'));

  let stderr = '';
  child = spawn(BINARY, ['--config', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

  client = new BgpApiClient(`${at.address}:${apiPort}`, { timeoutMs: 20_000 });
  // The launcher execs node (same pid) with the daemon's V8 flags.
  const commandLine = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
  expect(commandLine).toContain('--max-semi-space-size=2');
  const prefixes = async () => (await client!.listRib()).map((r) => r.prefix);
  expect(await prefixes()).toEqual(['10.1.0.0/24']);

  await writeFile(file, config('10.1.0.0/24, 2001:db8:1::/48'));
  child.kill('SIGHUP');
  await until(async () => (await prefixes()).includes('2001:db8:1::/48'), 'the reloaded originate list');

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  const logs = stderr
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { message: string });
  expect(logs.map((l) => l.message)).toEqual(
    expect.arrayContaining(['started', 'configuration reloaded', 'shutting down', 'stopped']),
  );
});

test('MARGAY_BGPD_NODE_FLAGS replaces the launcher’s V8 flags', async () => {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run pnpm -s build first`);
  const scratch = await makeTempDir('bgpd-flags');
  try {
    // A preload that records the flags node was started with, then lets the daemon print its version.
    const recorder = join(scratch, 'record-flags.js');
    const recorded = join(scratch, 'flags.json');
    await writeFile(
      recorder,
      `require('fs').writeFileSync(${JSON.stringify(recorded)}, JSON.stringify(process.execArgv));\n`,
    );
    const run = (flags: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile(
          BINARY,
          ['--version'],
          { env: { ...process.env, MARGAY_BGPD_NODE_FLAGS: flags } },
          (error, stdout, stderr) =>
            resolve({
              code: error ? Number(error.code ?? 1) : 0,
              stdout: String(stdout),
              stderr: String(stderr),
            }),
        );
      });

    const replaced = await run(`--require=${recorder} --max-semi-space-size=4`);
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toMatch(/^margay-bgpd \d+\.\d+\.\d+/);
    expect(JSON.parse(await readFile(recorded, 'utf8'))).toEqual([
      `--require=${recorder}`,
      '--max-semi-space-size=4',
    ]);

    // An empty value means no flags at all; a bad flag is node's error, not a silent default.
    expect((await run('')).code).toBe(0);
    const bad = await run('--no-such-v8-flag-here');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--no-such-v8-flag-here');
  } finally {
    await removeTempDir(scratch);
  }
});
