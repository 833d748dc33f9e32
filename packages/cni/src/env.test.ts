import { parseEnvironment } from './env';
import { CniError, ERROR_CODES } from './errors';

const ADD = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'abc123',
  CNI_NETNS: '/run/netns/pod',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1;MARGAY_POD_LABELS=app=web,tier=db',
  CNI_PATH: '/opt/cni/bin:/usr/lib/cni',
};

function codeOf(env: NodeJS.ProcessEnv): { code: number; message: string } {
  try {
    parseEnvironment(env);
  } catch (error) {
    if (error instanceof CniError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a CniError');
}

describe('parseEnvironment', () => {
  it('reads every CNI_* variable, with values that hold "="', () => {
    expect(parseEnvironment(ADD)).toEqual({
      command: 'ADD',
      containerId: 'abc123',
      netns: '/run/netns/pod',
      ifName: 'eth0',
      args: {
        IgnoreUnknown: '1',
        K8S_POD_NAMESPACE: 'shop',
        K8S_POD_NAME: 'web-1',
        MARGAY_POD_LABELS: 'app=web,tier=db',
      },
      path: ['/opt/cni/bin', '/usr/lib/cni'],
    });
  });

  it('lets DEL come without CNI_NETNS, and VERSION, GC and STATUS without a container', () => {
    expect(parseEnvironment({ ...ADD, CNI_COMMAND: 'DEL', CNI_NETNS: '' }).netns).toBe('');
    for (const command of ['VERSION', 'GC', 'STATUS']) {
      expect(parseEnvironment({ CNI_COMMAND: command }).command).toBe(command);
    }
  });

  it.each([
    [{ ...ADD, CNI_COMMAND: 'ATTACH' }, 'CNI_COMMAND'],
    [{ ...ADD, CNI_COMMAND: undefined }, 'CNI_COMMAND'],
    [{ ...ADD, CNI_CONTAINERID: '' }, 'CNI_CONTAINERID'],
    [{ ...ADD, CNI_CONTAINERID: '-abc' }, 'CNI_CONTAINERID'],
    [{ ...ADD, CNI_IFNAME: 'a-name-longer-than-15' }, 'CNI_IFNAME'],
    [{ ...ADD, CNI_NETNS: undefined }, 'CNI_NETNS'],
    [{ ...ADD, CNI_COMMAND: 'CHECK', CNI_NETNS: 'pod' }, 'CNI_NETNS'],
    [{ ...ADD, CNI_ARGS: 'K8S_POD_NAME' }, 'CNI_ARGS'],
  ])('rejects %j with code 4 naming %s', (env, variable) => {
    const { code, message } = codeOf(env);
    expect(code).toBe(ERROR_CODES.invalidEnvironment);
    expect(message).toContain(variable);
  });
});
