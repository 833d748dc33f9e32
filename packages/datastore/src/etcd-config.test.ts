import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@margay/testkit';
import { EtcdDatastore } from './etcd';
import { etcdClientSettings, etcdConfigFromEnv } from './etcd-config';

describe('etcdConfigFromEnv', () => {
  test('defaults to the local etcd without TLS', () => {
    expect(etcdConfigFromEnv({})).toEqual({ endpoints: ['http://127.0.0.1:2379'] });
    expect(etcdConfigFromEnv({ ETCD_ENDPOINTS: '  ', ETCD_CA_CERT_FILE: '' })).toEqual({
      endpoints: ['http://127.0.0.1:2379'],
    });
  });

  test('reads comma-separated endpoints and the TLS files', () => {
    expect(
      etcdConfigFromEnv({
        ETCD_ENDPOINTS: 'https://10.0.0.1:2379, https://10.0.0.2:2379',
        ETCD_CA_CERT_FILE: '/etc/margay/ca.crt',
        ETCD_CERT_FILE: '/etc/margay/client.crt',
        ETCD_KEY_FILE: '/etc/margay/client.key',
      }),
    ).toEqual({
      endpoints: ['https://10.0.0.1:2379', 'https://10.0.0.2:2379'],
      caFile: '/etc/margay/ca.crt',
      certFile: '/etc/margay/client.crt',
      keyFile: '/etc/margay/client.key',
    });
  });
});

describe('etcd client settings', () => {
  let dir: string;
  let pem: string;
  beforeAll(() => {
    dir = makeTempDir('etcd-config');
    pem = join(dir, 'ca.crt');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'not-pem'), 'hello');
  });
  afterAll(() => removeTempDir(dir));

  test('endpoints are normalised to scheme://host:port', () => {
    const settings = etcdClientSettings({ endpoints: ['http://127.0.0.1:2379/', 'http://[::1]:2380'] });
    expect(settings.hosts).toEqual(['http://127.0.0.1:2379', 'http://[::1]:2380']);
  });

  test('a Unix socket endpoint is its absolute path', () => {
    const settings = etcdClientSettings({ endpoints: ['unix:///run/etcd/localhost:2379'] });
    expect(settings.hosts).toEqual(['unix:///run/etcd/localhost:2379']);
  });

  test('TLS files are read into the credentials', () => {
    const settings = etcdClientSettings({
      endpoints: ['https://127.0.0.1:2379'],
      caFile: pem,
      certFile: pem,
      keyFile: pem,
    });
    expect(settings.clientOptions.credentials?.rootCertificate.toString()).toContain('BEGIN CERTIFICATE');
    expect(settings.clientOptions.credentials?.certChain?.toString()).toContain('BEGIN CERTIFICATE');
  });

  test.each([
    [{ endpoints: [] }, /endpoints must list at least one URL/],
    [
      { endpoints: ['ftp://127.0.0.1:2379'] },
      /endpoints\[0\] "ftp:\/\/127.0.0.1:2379" must use http:\/\/, https:\/\/ or unix:\/\//,
    ],
    [
      { endpoints: ['unix://host/run/etcd.sock'] },
      /endpoints\[0\] "unix:\/\/host\/run\/etcd.sock" must be unix:\/\/ and the socket's absolute path/,
    ],
    [{ endpoints: ['127.0.0.1:2379'] }, /endpoints\[0\] "127.0.0.1:2379" is not a URL; expected e.g. http:/],
    [{ endpoints: ['http://127.0.0.1'] }, /endpoints\[0\] "http:\/\/127.0.0.1" must name a port/],
    [{ endpoints: ['http://127.0.0.1:2379/v3'] }, /must be just scheme:\/\/host:port/],
    [{ endpoints: ['http://a:2379', 'https://b:2379'] }, /endpoints mix http:\/\/ and https:\/\//],
    [{ endpoints: ['https://a:2379'], certFile: '/x' }, /certFile and keyFile go together/],
    [{ endpoints: ['https://a:2379'], certFile: '/x', keyFile: '/y' }, /need caFile/],
    [{ endpoints: ['http://a:2379'], caFile: '/x' }, /TLS files are given but the endpoints use http:\/\//],
    [{ endpoints: ['http://a:2379'], dialTimeoutMs: 0 }, /dialTimeoutMs must be a positive number/],
  ])('refuses %j', (config, message) => {
    expect(() => etcdClientSettings(config)).toThrow(message);
  });

  test('unreadable or non-PEM TLS files are named in the error', () => {
    const missing = join(dir, 'missing.crt');
    expect(() => new EtcdDatastore({ endpoints: ['https://a:2379'], caFile: missing })).toThrow(
      `etcd config: cannot read caFile ${missing}: ENOENT`,
    );
    expect(() => etcdClientSettings({ endpoints: ['https://a:2379'], caFile: join(dir, 'not-pem') })).toThrow(
      /caFile .*not-pem is not a PEM file/,
    );
  });
});
