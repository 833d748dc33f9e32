import { hostname } from 'node:os';
import { parseNetworkConfig, requestedVersion } from './config';
import { CniError, ERROR_CODES } from './errors';

const MINIMAL = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'margay' };

function failure(config: unknown): { code: number; message: string } {
  try {
    parseNetworkConfig(typeof config === 'string' ? config : JSON.stringify(config));
  } catch (error) {
    if (error instanceof CniError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a CniError');
}

describe('parseNetworkConfig', () => {
  it('applies defaults to a minimal config', () => {
    expect(parseNetworkConfig(JSON.stringify(MINIMAL))).toEqual({
      cniVersion: '1.0.0',
      name: 'k8s-pod-network',
      etcd: undefined,
      mtu: undefined,
      underlayMtu: 1500,
      nodename: hostname(),
      pools: undefined,
      logLevel: 'warning',
      logFile: undefined,
      labels: {},
      dns: {},
      validAttachments: [],
      prevResult: undefined,
    });
  });

  it('reads every field of a full config', () => {
    const config = parseNetworkConfig(
      JSON.stringify({
        ...MINIMAL,
        cniVersion: '1.1.0',
        etcd_endpoints: 'https://10.0.0.1:2379, https://10.0.0.2:2379',
        etcd_ca_cert_file: '/etc/margay/ca.pem',
        etcd_cert_file: '/etc/margay/cert.pem',
        etcd_key_file: '/etc/margay/key.pem',
        mtu: 1440,
        underlay_mtu: 9000,
        nodename: 'node-1',
        ipam: { type: 'margay-ipam', ipv4_pools: ['pool-a'] },
        log_level: 'debug',
        log_file_path: '/var/log/margay-cni.log',
        dns: { nameservers: ['10.96.0.10'] },
        args: { margay: { labels: { app: 'web' } } },
        'cni.dev/valid-attachments': [{ containerID: 'abc', ifname: 'eth0' }],
        prevResult: { ips: [] },
      }),
    );
    expect(config).toEqual({
      cniVersion: '1.1.0',
      name: 'k8s-pod-network',
      etcd: {
        endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
        caFile: '/etc/margay/ca.pem',
        certFile: '/etc/margay/cert.pem',
        keyFile: '/etc/margay/key.pem',
      },
      mtu: 1440,
      underlayMtu: 9000,
      nodename: 'node-1',
      pools: ['pool-a'],
      logLevel: 'debug',
      logFile: '/var/log/margay-cni.log',
      labels: { app: 'web' },
      dns: { nameservers: ['10.96.0.10'] },
      validAttachments: [{ containerID: 'abc', ifname: 'eth0' }],
      prevResult: { ips: [] },
    });
  });

  it.each([
    ['{"cniVersion": ', ERROR_CODES.decode, 'not JSON'],
    [{ ...MINIMAL, cniVersion: '0.3.1' }, ERROR_CODES.incompatibleVersion, '0.3.1'],
    [{ ...MINIMAL, cniVersion: undefined }, ERROR_CODES.incompatibleVersion, 'cniVersion'],
    [{ ...MINIMAL, ipam: { type: 'host-local' } }, ERROR_CODES.unsupportedField, 'ipam.type'],
    [[], ERROR_CODES.invalidNetworkConfig, 'JSON object'],
    [{ ...MINIMAL, name: '' }, ERROR_CODES.invalidNetworkConfig, 'name is required'],
    [{ ...MINIMAL, type: 'calico' }, ERROR_CODES.invalidNetworkConfig, 'type must be "margay"'],
    [{ ...MINIMAL, mtu: 10 }, ERROR_CODES.invalidNetworkConfig, 'mtu'],
    [{ ...MINIMAL, mtu: '1500' }, ERROR_CODES.invalidNetworkConfig, 'mtu'],
    [
      { ...MINIMAL, underlay_mtu: 70000 },
      ERROR_CODES.invalidNetworkConfig,
      'underlay_mtu must be an integer',
    ],
    [{ ...MINIMAL, underlay_mtu: 1500.5 }, ERROR_CODES.invalidNetworkConfig, 'underlay_mtu'],
    [{ ...MINIMAL, ipam: { ipv4_pools: [] } }, ERROR_CODES.invalidNetworkConfig, 'ipam.ipv4_pools'],
    [{ ...MINIMAL, log_level: 'loud' }, ERROR_CODES.invalidNetworkConfig, 'log_level'],
    [{ ...MINIMAL, etcd_endpoints: 2379 }, ERROR_CODES.invalidNetworkConfig, 'etcd_endpoints'],
    [
      { ...MINIMAL, args: { margay: { labels: { app: 1 } } } },
      ERROR_CODES.invalidNetworkConfig,
      'labels.app',
    ],
    [
      { ...MINIMAL, 'cni.dev/valid-attachments': [{ id: 'x' }] },
      ERROR_CODES.invalidNetworkConfig,
      'valid-attachments[0]',
    ],
  ])('rejects %j with code %i naming %s', (config, code, named) => {
    const result = failure(config);
    expect(result.code).toBe(code);
    expect(result.message).toContain(named);
  });

  it('answers errors in the requested version, or the newest when unreadable', () => {
    expect(requestedVersion('{"cniVersion":"0.4.0"}')).toBe('0.4.0');
    expect(requestedVersion('nonsense')).toBe('1.1.0');
    expect(requestedVersion('')).toBe('1.1.0');
  });
});
