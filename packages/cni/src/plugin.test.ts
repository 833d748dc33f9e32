import { resourceKey } from '@margay/api';
import { RecordingRunner } from '@margay/dataplane';
import { MemoryDatastore } from '@margay/datastore';
import type { Assignment, AssignRequest } from '@margay/ipam';
import { IpamError } from '@margay/ipam';
import { parseNetworkConfig } from './config';
import { parseEnvironment } from './env';
import { CniError, ERROR_CODES } from './errors';
import { WorkloadLinks } from './links';
import { add, check, del, gc, type IpamClient, type PluginContext } from './plugin';

/** IPAM in a Map: one address per handle, 10.0.0.1 upwards. */
class FakeIpam implements IpamClient {
  readonly held = new Map<string, { ip: string; attributes: Record<string, string> }>();
  failure: Error | undefined;
  private next = 1;

  async assign(request: AssignRequest): Promise<Assignment> {
    if (this.failure) throw this.failure;
    const held = this.held.get(request.handle) ?? {
      ip: `10.0.0.${this.next++}`,
      attributes: request.attributes ?? {},
    };
    this.held.set(request.handle, held);
    return { ip: held.ip, cidr: `${held.ip}/32`, block: '10.0.0.0/26', pool: 'fake-pool', borrowed: false };
  }

  async releaseByHandle(handle: string): Promise<string[]> {
    const held = this.held.get(handle);
    this.held.delete(handle);
    return held ? [held.ip] : [];
  }

  async lookupHandle(handle: string): Promise<string[]> {
    const held = this.held.get(handle);
    return held ? [held.ip] : [];
  }

  async gc(isLive: Parameters<IpamClient['gc']>[0]): Promise<string[]> {
    const released: string[] = [];
    for (const [handle, held] of this.held) {
      if (await isLive(handle, held.attributes)) continue;
      this.held.delete(handle);
      released.push(held.ip);
    }
    return released;
  }
}

const ENV = {
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: 'c0ffee',
  CNI_NETNS: '/run/netns/pod-1',
  CNI_IFNAME: 'eth0',
  CNI_ARGS: 'K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1;MARGAY_POD_LABELS=app=web',
};
const CONFIG = { cniVersion: '1.0.0', name: 'net', type: 'margay', nodename: 'node-1', mtu: 1440 };
const VETH = 'mg751425ce827'; // sha1("shop.web-1")
const ENDPOINT_KEY = '/margay/resources/v1/workloadendpoints/shop/node--1-k8s-web--1-eth0';

function context(
  options: { runner?: RecordingRunner; env?: Record<string, string>; config?: Record<string, unknown> } = {},
) {
  const runner = options.runner ?? new RecordingRunner();
  const ipam = new FakeIpam();
  const store = new MemoryDatastore();
  const ctx: PluginContext = {
    env: parseEnvironment({ ...ENV, ...options.env }),
    config: parseNetworkConfig(JSON.stringify({ ...CONFIG, ...options.config })),
    store,
    ipam,
    links: new WorkloadLinks(runner),
    log: () => {},
  };
  return { ctx, runner, ipam, store };
}

async function rejection(promise: Promise<unknown>): Promise<CniError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CniError)) throw new Error(`expected a CniError, got ${String(error)}`);
  return error;
}

const ipCommands = (runner: RecordingRunner) => runner.commands.map((c) => c.argv.join(' '));

describe('ADD', () => {
  it('assigns, wires the veth, writes the endpoint and returns the result', async () => {
    const { ctx, runner, ipam, store } = context();
    const result = await add(ctx);
    const podMac = result.interfaces[1]!.mac;
    expect(podMac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
    expect(result).toEqual({
      cniVersion: '1.0.0',
      interfaces: [
        { name: VETH, mac: 'ee:ee:ee:ee:ee:ee' },
        { name: 'eth0', mac: podMac, sandbox: '/run/netns/pod-1' },
      ],
      ips: [{ address: '10.0.0.1/32', gateway: '169.254.1.1', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: '169.254.1.1' }],
      dns: {},
    });
    expect(ipam.held.get('net.c0ffee')).toEqual({
      ip: '10.0.0.1',
      attributes: { node: 'node-1', namespace: 'shop', pod: 'web-1', containerID: 'c0ffee' },
    });
    expect(ipCommands(runner)).toEqual([
      `ip link del ${VETH}`,
      'ip -batch -',
      expect.stringMatching(/^sysctl /),
      'nsenter --net=/run/netns/pod-1 ip -batch -',
    ]);
    expect(JSON.parse((await store.get(ENDPOINT_KEY))!.value)).toEqual({
      apiVersion: 'margay.io/v1',
      kind: 'WorkloadEndpoint',
      metadata: {
        name: 'node--1-k8s-web--1-eth0',
        namespace: 'shop',
        labels: {
          app: 'web',
          'projectcalico.org/namespace': 'shop',
          'projectcalico.org/orchestrator': 'k8s',
        },
      },
      spec: {
        orchestrator: 'k8s',
        node: 'node-1',
        containerID: 'c0ffee',
        pod: 'web-1',
        profiles: ['kns.shop'],
        endpoint: 'eth0',
        interfaceName: VETH,
        mac: podMac,
        ipNetworks: ['10.0.0.1/32'],
      },
    });
  });

  it('tags addresses with their version in a 0.4.0 result and adds MTUs in 1.1.0', async () => {
    const old = await add(context({ config: { cniVersion: '0.4.0' } }).ctx);
    expect(old.ips[0]).toEqual({
      version: '4',
      address: '10.0.0.1/32',
      gateway: '169.254.1.1',
      interface: 1,
    });
    const current = await add(context({ config: { cniVersion: '1.1.0' } }).ctx);
    expect(current.interfaces.map((i) => i.mtu)).toEqual([1440, 1440]);
  });

  it.each([
    ['an explicit mtu, whatever the pool', { mtu: 1440 }, { vxlanMode: 'Always' }, 1440],
    ['the underlay MTU for an unencapsulated pool', {}, {}, 1500],
    ['the underlay MTU less 20 for IPIP', { underlay_mtu: 9000 }, { ipipMode: 'CrossSubnet' }, 8980],
    ['the underlay MTU less 50 for IPv4 VXLAN', {}, { vxlanMode: 'Always' }, 1450],
    ['the underlay MTU when the pool is gone', { underlay_mtu: 1460 }, undefined, 1460],
  ])('gives the veth %s', async (_, config, poolSpec, expected) => {
    // `mtu: undefined` drops CONFIG's explicit MTU from the JSON.
    const { ctx, runner, store } = context({ config: { mtu: undefined, cniVersion: '1.1.0', ...config } });
    if (poolSpec) {
      const pool = { cidr: '10.0.0.0/16', ...poolSpec };
      await store.put(
        resourceKey('IPPool', 'fake-pool'),
        JSON.stringify({
          apiVersion: 'margay.io/v1',
          kind: 'IPPool',
          metadata: { name: 'fake-pool' },
          spec: pool,
        }),
      );
    }
    const result = await add(ctx);
    expect(result.interfaces.map((i) => i.mtu)).toEqual([expected, expected]);
    expect(runner.batches()[0]).toContain(
      `mtu ${expected} address ee:ee:ee:ee:ee:ee type veth peer name eth0 mtu ${expected} `,
    );
  });

  it('rolls back a failure in the middle: veth deleted, address released, no endpoint', async () => {
    const runner = new RecordingRunner((command) =>
      command.argv[0] === 'nsenter' ? { code: 2, stderr: 'RTNETLINK answers: File exists' } : {},
    );
    const { ctx, ipam, store } = context({ runner });
    const error = await add(ctx).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toContain('File exists');
    expect(ipCommands(runner).at(-1)).toBe(`ip link del ${VETH}`);
    expect(ipam.held.size).toBe(0);
    expect(await store.get(ENDPOINT_KEY)).toBeUndefined();
  });

  it('rolls back when the endpoint cannot be written', async () => {
    const { ctx, runner, ipam, store } = context();
    store.put = () =>
      Promise.reject(Object.assign(new Error('etcd is down'), { name: 'DatastoreUnavailableError' }));
    const error = await rejection(add(ctx));
    expect(error.code).toBe(ERROR_CODES.tryAgainLater);
    expect(ipCommands(runner).at(-1)).toBe(`ip link del ${VETH}`);
    expect(ipam.held.size).toBe(0);
  });

  it.each([
    ['pool-exhausted', ERROR_CODES.poolExhausted],
    ['no-pool', ERROR_CODES.noPool],
    ['invalid-request', ERROR_CODES.invalidNetworkConfig],
    ['conflict-retries', ERROR_CODES.tryAgainLater],
  ] as const)('reports IPAM %s as code %i and touches no link', async (ipamCode, cniCode) => {
    const { ctx, runner, ipam } = context();
    ipam.failure = new IpamError(ipamCode, 'pool-a (10.0.0.0/30) has no free address');
    const error = await rejection(add(ctx));
    expect(error.code).toBe(cniCode);
    expect(error.message).toBe('IPAM: pool-a (10.0.0.0/30) has no free address');
    expect(runner.commands).toEqual([]);
  });

  it('rejects a label that cannot be stored before assigning anything', async () => {
    const { ctx, ipam, runner } = context({
      env: { CNI_ARGS: 'K8S_POD_NAMESPACE=shop;K8S_POD_NAME=web-1;MARGAY_POD_LABELS=app=-bad' },
    });
    const error = await rejection(add(ctx));
    expect(error.code).toBe(ERROR_CODES.invalidNetworkConfig);
    expect(error.message).toContain('metadata.labels');
    expect(ipam.held.size + runner.commands.length).toBe(0);
  });
});

describe('DEL', () => {
  it('removes endpoint, veth and address, and succeeds again when all is gone', async () => {
    const { ctx, runner, ipam, store } = context();
    await add(ctx);
    runner.commands.length = 0;
    await del(ctx);
    expect(await store.get(ENDPOINT_KEY)).toBeUndefined();
    expect(ipam.held.size).toBe(0);
    expect(ipCommands(runner)).toEqual([`ip link del ${VETH}`]);
    runner.respond = () => ({ code: 1, stderr: `Cannot find device "${VETH}"` });
    await expect(del(ctx)).resolves.toBeUndefined();
  });

  it("leaves a newer sandbox's endpoint and veth alone but releases its own address", async () => {
    const { ctx, runner, ipam, store } = context();
    await add({ ...ctx, env: { ...ctx.env, containerId: 'newer' } });
    await add(ctx);
    await store.put(ENDPOINT_KEY, (await store.get(ENDPOINT_KEY))!.value.replace('"c0ffee"', '"newer"'));
    runner.commands.length = 0;
    await del(ctx);
    expect(await store.get(ENDPOINT_KEY)).toBeDefined();
    expect(runner.commands).toEqual([]);
    expect([...ipam.held.keys()]).toEqual(['net.newer']);
  });
});

describe('CHECK', () => {
  it('reports an unknown container with code 3 and missing pieces with code 102', async () => {
    const { ctx, store } = context();
    expect((await rejection(check(ctx))).code).toBe(ERROR_CODES.unknownContainer);
    await add(ctx);
    await store.delete(ENDPOINT_KEY);
    const error = await rejection(check(ctx));
    expect(error.code).toBe(ERROR_CODES.checkFailed);
    expect(error.message).toContain(`WorkloadEndpoint ${ENDPOINT_KEY} is missing`);
  });
});

describe('GC', () => {
  it("releases this network's handles on this node that are not valid attachments", async () => {
    const { ctx, ipam } = context();
    const attributes = { node: 'node-1' };
    ipam.held.set('net.live', { ip: '10.0.0.7', attributes });
    ipam.held.set('net.stale', { ip: '10.0.0.8', attributes });
    ipam.held.set('net.elsewhere', { ip: '10.0.0.9', attributes: { node: 'node-2' } });
    ipam.held.set('other-net.stale', { ip: '10.0.0.10', attributes });
    ctx.config.validAttachments = [{ containerID: 'live', ifname: 'eth0' }];
    expect(await gc(ctx)).toEqual(['10.0.0.8']);
    expect([...ipam.held.keys()]).toEqual(['net.live', 'net.elsewhere', 'other-net.stale']);
  });
});
