// The built margay-bgpd, spawned as a process: comes up, serves its API, reloads on SIGHUP,
// exits 0 on SIGTERM.

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
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
