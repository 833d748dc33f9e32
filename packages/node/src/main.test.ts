import { parseNodeFlags } from './main';

const env = { NODENAME: 'env-node', IP: '10.0.0.5/24', AS: '64512' };

test('defaults come from the environment, with the documented ports and mode', () => {
  expect(parseNodeFlags([], env)).toEqual({
    settings: {
      nodeName: 'env-node',
      addressMethod: '10.0.0.5/24',
      asNumber: 64512,
      routeReflectorClusterID: undefined,
      mode: 'full',
      healthPort: 9099,
      metricsPort: 9091,
      bgpApi: '127.0.0.1:50151',
      policy: true,
    },
    logLevel: 'info',
  });
});

test('flags win over the environment', () => {
  const flags = parseNodeFlags(
    [
      '--node-name=flag-node',
      '--ip',
      'interface=eth.*',
      '--as=65001',
      '--route-reflector-cluster-id=224.0.0.1',
      '--mode=route-reflector',
      '--health-port=0',
      '--metrics-port=19091',
      '--log-level=debug',
      '--bgp-api=[::1]:50999',
      '--policy=off',
    ],
    { ...env, MARGAY_POLICY: 'on' },
  );
  expect(flags).toEqual({
    settings: {
      nodeName: 'flag-node',
      addressMethod: 'interface=eth.*',
      asNumber: 65001,
      routeReflectorClusterID: '224.0.0.1',
      mode: 'route-reflector',
      healthPort: 0,
      metricsPort: 19091,
      bgpApi: '[::1]:50999',
      policy: false,
    },
    logLevel: 'debug',
  });
});

test('without IP the autodetection method comes from IP_AUTODETECTION_METHOD', () => {
  const flags = parseNodeFlags([], {
    NODENAME: 'n',
    IP: 'autodetect',
    IP_AUTODETECTION_METHOD: 'can-reach=1.2.3.4',
  });
  expect(flags !== 'help' && flags.settings.addressMethod).toBe('can-reach=1.2.3.4');
});

test('--bgp-api off runs no API', () => {
  const flags = parseNodeFlags(['--bgp-api=off'], env);
  expect(flags !== 'help' && flags.settings.bgpApi).toBeUndefined();
});

test('MARGAY_POLICY=off turns policy off; --policy on wins over it', () => {
  const off = parseNodeFlags([], { ...env, MARGAY_POLICY: 'off' });
  expect(off !== 'help' && off.settings.policy).toBe(false);
  const on = parseNodeFlags(['--policy', 'on'], { ...env, MARGAY_POLICY: 'off' });
  expect(on !== 'help' && on.settings.policy).toBe(true);
});

test('--help asks for the usage text', () => {
  expect(parseNodeFlags(['--help'], env)).toBe('help');
  expect(parseNodeFlags(['-h'], env)).toBe('help');
});

test.each([
  [['--mode=bird'], /--mode "bird" is not one of full, route-reflector/],
  [['--health-port=70000'], /--health-port "70000" is not a port/],
  [['--metrics-port=-1'], /--metrics-port "-1" is not a port/],
  [['--log-level=loud'], /--log-level "loud" is not one of debug, info, warn, error/],
  [['--ip=interface=('], /address autodetection method "interface=\("/],
  [['--as=sixty'], /AS: "sixty" is not an AS number/],
  [['--bgp-api=50151'], /--bgp-api "50151" is not HOST:PORT/],
  [['--bgp-api=localhost:99999'], /--bgp-api "localhost:99999" is not HOST:PORT/],
  [['--policy=maybe'], /--policy "maybe" is not one of on, off/],
  [['--no-such-flag'], /--no-such-flag/],
  [['stray'], /stray/],
])('%j is refused with a message naming it', (argv, message) => {
  expect(() => parseNodeFlags(argv, env)).toThrow(message);
});
