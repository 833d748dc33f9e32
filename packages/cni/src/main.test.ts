import { ERROR_CODES } from './errors';
import { runPlugin } from './main';

const CONFIG = JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'margay' });
const ADD = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c0ffee',
  CNI_NETNS: '/run/netns/pod',
  CNI_IFNAME: 'eth0',
};

describe('runPlugin', () => {
  it('answers VERSION in the requested version', async () => {
    expect(await runPlugin({ CNI_COMMAND: 'VERSION' }, '{"cniVersion":"0.4.0"}')).toEqual({
      exitCode: 0,
      stdout: '{"cniVersion":"0.4.0","supportedVersions":["0.4.0","1.0.0","1.1.0"]}',
    });
  });

  it.each([
    [{ ...ADD, CNI_CONTAINERID: undefined }, CONFIG, ERROR_CODES.invalidEnvironment, 'CNI_CONTAINERID'],
    [ADD, '{"cniVersion":"1.0.0",', ERROR_CODES.decode, 'not JSON'],
    [ADD, CONFIG.replace('1.0.0', '2.0.0'), ERROR_CODES.incompatibleVersion, '2.0.0'],
    [ADD, CONFIG.replace('"margay"', '"bridge"'), ERROR_CODES.invalidNetworkConfig, 'type'],
    [
      ADD,
      CONFIG.replace('}', ',"etcd_endpoints":"etcd:2379"}'),
      ERROR_CODES.invalidNetworkConfig,
      'endpoints[0]',
    ],
  ])('fails %j with stdin %s as the spec error JSON, code %i, naming %s', async (env, stdin, code, named) => {
    const { exitCode, stdout } = await runPlugin(env, stdin);
    expect(exitCode).toBe(1);
    const error = JSON.parse(stdout) as { cniVersion: string; code: number; msg: string };
    expect(error).toMatchObject({ cniVersion: expect.any(String), code });
    expect(error.msg).toContain(named);
  });
});
