import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@margay/testkit';
import { KernelFib } from '../fib/kernel-fib';
import { EXIT_OK, EXIT_USAGE, loadKernelFib, main } from './main';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await makeTempDir('bgpd-cli');
});
afterAll(async () => {
  await removeTempDir(dir);
});

test('--help and --version print and exit 0', async () => {
  expect(await run(['--help'])).toMatchObject({
    code: EXIT_OK,
    stdout: expect.stringContaining('--config FILE'),
  });
  expect(await run(['--version'])).toMatchObject({
    code: EXIT_OK,
    stdout: expect.stringMatching(/^margay-bgpd \d+\.\d+\.\d+\n$/),
  });
});

test('bad usage exits 2 naming the problem', async () => {
  expect(await run([])).toMatchObject({
    code: EXIT_USAGE,
    stderr: expect.stringContaining('--config FILE is required'),
  });
  expect(await run(['--config', 'x', '--frobnicate'])).toMatchObject({
    code: EXIT_USAGE,
    stderr: expect.stringContaining("'--frobnicate'"),
  });
  expect(await run(['--config', 'x', '--log-level', 'loud'])).toMatchObject({
    code: EXIT_USAGE,
    stderr: expect.stringContaining('--log-level "loud" is not one of debug, info, warn, error'),
  });
});

test('--check validates the file', async () => {
  const good = join(dir, 'good.yaml');
  const bad = join(dir, 'bgpd.yaml');
  await writeFile(good, 'asNumber: 65000\nrouterId: 10.0.0.1\n');
  await writeFile(
    bad,
    'asNumber: 65000\nrouterId: 10.0.0.1\npeers:\n  - { address: 127.0.0.2, asNumber: 0 }\n',
  );
  expect(await run(['--config', good, '--check'])).toMatchObject({ code: EXIT_OK });
  expect(await run(['--config', bad, '--check'])).toEqual({
    code: EXIT_USAGE,
    stdout: '',
    stderr: 'bgpd.yaml: peers[0].asNumber: must be 1..4294967295\n',
  });
  expect(await run(['--config', join(dir, 'missing.yaml'), '--check'])).toMatchObject({
    code: EXIT_USAGE,
    stderr: expect.stringContaining('missing.yaml: cannot read'),
  });
});

test('a bad file stops start-up with exit 2 and a JSON log line', async () => {
  const bad = join(dir, 'bgpd.yaml');
  await writeFile(bad, 'asNumber: x\n');
  const { code, stderr } = await run(['--config', bad]);
  expect(code).toBe(EXIT_USAGE);
  expect(JSON.parse(stderr.trim())).toMatchObject({
    level: 'error',
    message: 'bad configuration',
    file: bad,
  });
});

test('the kernel FIB module main.ts loads on demand is the package’s own', () => {
  expect(loadKernelFib().KernelFib).toBe(KernelFib);
});
