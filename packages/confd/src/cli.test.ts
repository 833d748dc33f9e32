import { EXIT_OK, EXIT_USAGE, main, parseConfdFlags } from './cli';
import { defaultTemplateDir } from './render';

test('flags with their defaults; the node name falls back to NODENAME', () => {
  expect(parseConfdFlags(['--config-file', '/etc/bird/bird.conf'], { NODENAME: 'n7' })).toEqual({
    nodeName: 'n7',
    configFile: '/etc/bird/bird.conf',
    birdSocket: undefined,
    templates: defaultTemplateDir(),
    secretsDir: undefined,
    kernelRoutes: true,
    once: false,
    logLevel: 'info',
  });
  expect(
    parseConfdFlags(
      [
        '--node-name=n1',
        '--config-file=/c',
        '--bird-socket=/s',
        '--templates=/t',
        '--secrets-dir=/x',
        '--kernel-routes=off',
        '--once',
        '--log-level=debug',
      ],
      { NODENAME: 'n7' },
    ),
  ).toEqual({
    nodeName: 'n1',
    configFile: '/c',
    birdSocket: '/s',
    templates: '/t',
    secretsDir: '/x',
    kernelRoutes: false,
    once: true,
    logLevel: 'debug',
  });
});

test.each([
  [[], '--config-file is required'],
  [['--config-file=/c', '--kernel-routes=maybe'], '--kernel-routes "maybe" is not one of on, off'],
  [['--config-file=/c', '--log-level=loud'], '--log-level "loud" is not one of debug, info, warn, error'],
  [['--config-file=/c', '--frobnicate'], "Unknown option '--frobnicate'"],
])('bad flags %j: %s', (argv, message) => {
  expect(() => parseConfdFlags(argv, {})).toThrow(message);
});

function io() {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
    },
  };
}

test('--help prints the usage and exits 0', async () => {
  const { out, io: streams } = io();
  expect(await main(['--help'], streams, {})).toBe(EXIT_OK);
  expect(out.stdout).toContain('Usage: margay-confd --config-file PATH');
});

test('bad flags exit 2 naming the flag, and a template directory that does not load too', async () => {
  const first = io();
  expect(await main(['--kernel-routes=x', '--config-file=/c'], first.io, {})).toBe(EXIT_USAGE);
  expect(first.out.stderr).toContain('margay-confd: --kernel-routes "x" is not one of on, off');
  const second = io();
  expect(await main(['--config-file=/c', '--templates=/nonexistent-margay'], second.io, {})).toBe(EXIT_USAGE);
  expect(second.out.stderr).toContain('templates directory /nonexistent-margay');
});
