import { DEFAULT_BIRD_RUN_DIR } from './bird-supervisor';
import { parseNodeFlags } from './main';

const env = { NODENAME: 'env-node', IP: '10.0.0.5/24' };

const settingsOf = (argv: string[], extraEnv: Record<string, string> = {}) => {
  const flags = parseNodeFlags(argv, { ...env, ...extraEnv });
  if (flags === 'help') throw new Error('unexpected help');
  return flags.settings;
};

test('margay’s own speaker by default: no BIRD settings', () => {
  expect(settingsOf([]).bird).toBeUndefined();
  expect(settingsOf(['--bgp-daemon', 'margay']).bird).toBeUndefined();
});

test('--bgp-daemon bird runs BIRD in the default run dir, or the one given', () => {
  expect(settingsOf(['--bgp-daemon', 'bird']).bird).toEqual({ runDir: DEFAULT_BIRD_RUN_DIR });
  expect(settingsOf(['--bgp-daemon=bird', '--bird-run-dir=/run/b']).bird).toEqual({ runDir: '/run/b' });
});

test('MARGAY_BGP_DAEMON=bird selects BIRD; the flag wins over it', () => {
  expect(settingsOf([], { MARGAY_BGP_DAEMON: 'bird' }).bird).toEqual({ runDir: DEFAULT_BIRD_RUN_DIR });
  expect(settingsOf(['--bgp-daemon=margay'], { MARGAY_BGP_DAEMON: 'bird' }).bird).toBeUndefined();
});

test.each([
  [['--bgp-daemon=gobgp'], {}, /--bgp-daemon "gobgp" is not one of margay, bird/],
  [[], { MARGAY_BGP_DAEMON: 'frr' }, /MARGAY_BGP_DAEMON "frr" is not one of margay, bird/],
])('%j %j is refused naming the flag or variable', (argv, extraEnv, message) => {
  expect(() => parseNodeFlags(argv, { ...env, ...extraEnv })).toThrow(message);
});
