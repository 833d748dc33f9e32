// Felix enforcing policy on a real kernel, fed by a real etcd: a network namespace is the node
// (FORWARD policy DROP, as Docker leaves it), two more are pods wired to it by veths the way the
// CNI plugin does (a /32 on eth0, a default route via 169.254.1.1). Every verdict is a real ping.

import { randomBytes } from 'node:crypto';
import { resourcePrefix } from '@margay/api';
import type { NetworkNamespace } from '@margay/dataplane';
import { type Datastore, EtcdDatastore, type WatchEvent } from '@margay/datastore';
import { EtcdServer, requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { Felix } from '../felix';
import { eventually as awaitVerdict, runIn as run, TestNamespaces } from './kernel.fixture';
import { ipSetSpecFor, policyChainName } from './render';
import { kubernetesPolicy, namespaceProfile, type StoredDocument, workload } from './testing';

const NODE = 'node-a';
const HOST_MAC = 'ee:ee:ee:ee:ee:ee';
const octet = 10 + (randomBytes(1).readUInt8() % 200);
const ipA = `10.${octet}.0.1`;
const ipB = `10.${octet}.0.2`;

let etcd: EtcdServer | undefined;
let store: EtcdDatastore | undefined;
let felix: Felix | undefined;
const namespaces = new TestNamespaces();
let node: NetworkNamespace;
let podA: NetworkNamespace;
let podB: NetworkNamespace;
/** What felix warned about: part of every failure message. */
const warnings: string[] = [];

/** A pod as the CNI plugin wires it: host side `hostIf` in the node, eth0 with a /32 in the pod. */
async function wirePod(pod: NetworkNamespace, hostIf: string, ip: string, host = node): Promise<void> {
  const node = host;
  await node.ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', `${hostIf}p`);
  await node.ip('link', 'set', hostIf, 'address', HOST_MAC);
  await node.ip('link', 'set', `${hostIf}p`, 'netns', pod.name);
  await node.ip('link', 'set', hostIf, 'up');
  await pod.ip('link', 'set', `${hostIf}p`, 'name', 'eth0');
  await pod.ip('addr', 'add', `${ip}/32`, 'dev', 'eth0');
  await pod.ip('link', 'set', 'eth0', 'up');
  await pod.ip('route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link');
  await pod.ip('route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0');
  await pod.ip('neigh', 'add', '169.254.1.1', 'lladdr', HOST_MAC, 'dev', 'eth0', 'nud', 'permanent');
}

const ping = async (from: NetworkNamespace, to: string) =>
  (await from.runner.run(['ping', '-c', '1', '-W', '1', to])).code === 0;

/** Waits for a verdict; a failure shows what felix warned about and the node's rules. */
const eventually = (what: string, condition: () => Promise<boolean>) =>
  awaitVerdict(what, condition, { ns: node, warnings });

async function put(doc: StoredDocument): Promise<void> {
  await store?.put(doc.key, doc.value);
}

/**
 * The store, with the WorkloadEndpoint watch's in-sync (and whatever follows it) held back until
 * release(): felix sees every endpoint but waits for the end of the listing.
 */
function holdingEndpointSync(inner: EtcdDatastore): { datastore: Pick<Datastore, 'watch'>; release(): void } {
  const held: (() => void)[] = [];
  let released = false;
  return {
    datastore: {
      watch: (prefix, options) => {
        if (prefix !== resourcePrefix('WorkloadEndpoint')) return inner.watch(prefix, options);
        return inner.watch(prefix, {
          ...options,
          onEvent: (event: WatchEvent) => {
            if (released || (event.type !== 'in-sync' && held.length === 0)) options.onEvent(event);
            else held.push(() => options.onEvent(event));
          },
        });
      },
    },
    release: () => {
      released = true;
      for (const deliver of held.splice(0)) deliver();
    },
  };
}

const pod = (name: string, hostIf: string, ip: string, app: string, namespace = 'shop', node = NODE) =>
  workload({ name, namespace, node, interfaceName: hostIf, ip, labels: { app } });

beforeAll(async () => {
  requireRoot('felix policy integration tests');
  requireCommand('ip', 'iproute2');
  requireCommand('iptables-restore', 'iptables');
  requireCommand('ipset', 'ipset');
  requireCommand('ping', 'iputils-ping');
  requireCommand('etcd', 'etcd-server');
  etcd = await EtcdServer.start();
  store = new EtcdDatastore({ endpoints: etcd.endpoints });
  node = await namespaces.create('mg-pnode');
  podA = await namespaces.create('mg-pa');
  podB = await namespaces.create('mg-pb');
  await wirePod(podA, 'mgpa', ipA);
  await wirePod(podB, 'mgpb', ipB);
  await run(node, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  await run(node, ['iptables', '-P', 'FORWARD', 'DROP']);
}, 60_000);

afterAll(async () => {
  await felix?.stop();
  await store?.close();
  // iptables rules and ipsets live in the node's namespace and go with it.
  await namespaces.deleteAll();
  await etcd?.stop();
});

describe('Felix policy on a real kernel', () => {
  test('profiles allow, a Kubernetes policy isolates, an allow rule and a label change move the verdict', async () => {
    await put(namespaceProfile('shop'));
    await put(pod('a', 'mgpa', ipA, 'client'));
    await put(pod('b', 'mgpb', ipB, 'server'));
    felix = new Felix({
      datastore: store as EtcdDatastore,
      nodeName: NODE,
      runner: node.runner,
      routeDebounceMs: 0,
      interfacePollIntervalMs: 200,
      policy: {},
      log: { info: () => {}, warn: (message) => warnings.push(message) },
    });
    await felix.start();

    // The namespace profile allows everything: a reaches b through the node, FORWARD DROP or not.
    await eventually('a to reach b', () => ping(podA, ipB));

    // Isolate b for ingress: a can no longer reach it; b can still reach a.
    await put(
      kubernetesPolicy('shop', 'isolate-server', { podSelector: { matchLabels: { app: 'server' } } }),
    );
    await eventually('a to be cut off from b', async () => !(await ping(podA, ipB)));
    expect(await ping(podB, ipA)).toBe(true);

    // Allow clients in: a reaches b again, through the set of client addresses.
    await put(
      kubernetesPolicy('shop', 'allow-clients', {
        podSelector: { matchLabels: { app: 'server' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
      }),
    );
    await eventually('a to reach b as a client', () => ping(podA, ipB));
    const clients = ipSetSpecFor({
      kind: 'selector',
      selector: 'projectcalico.org/namespace == "shop" && app == "client"',
    }).name;
    expect(await run(node, ['ipset', 'list', clients])).toContain(ipA);

    // a stops being a client: its address leaves the set and it is cut off again.
    await put(pod('a', 'mgpa', ipA, 'batch'));
    await eventually('a to be cut off once relabelled', async () => !(await ping(podA, ipB)));
    expect(await run(node, ['ipset', 'list', clients])).not.toContain(ipA);
    const stats = felix.policyStats();
    expect(stats).toMatchObject({ localEndpoints: 2, activePolicies: 2, failures: 0 });
  }, 120_000);

  describe('early programming on a fresh kernel', () => {
    const EARLY_NODE = 'node-early';
    const ipC = `10.${octet}.1.1`;
    const ipD = `10.${octet}.1.2`;
    /** A pod on another node: a member of the set the policy allows. */
    const ipFriend = `10.${octet}.1.9`;
    const chainsOf = (saved: string) =>
      [...saved.matchAll(/^:(mg-\S+)/gm)].map((match) => match[1] as string);
    const jumpsIntoOurs = (saved: string) =>
      saved
        .split('\n')
        .filter((line) => /^-A (FORWARD|INPUT|OUTPUT|PREROUTING|POSTROUTING) .*mg-/.test(line));
    const selectorSet = (app: string) =>
      ipSetSpecFor({
        kind: 'selector',
        selector: `projectcalico.org/namespace == "early" && app == "${app}"`,
      }).name;
    const isolate = kubernetesPolicy('early', 'isolate-server', {
      podSelector: { matchLabels: { app: 'server' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'friend' } } }] }],
    });
    /** Selects the client, allowing from a set no other policy uses: deleted between two starts. */
    const ghost = kubernetesPolicy('early', 'from-ghost', {
      podSelector: { matchLabels: { app: 'client' } },
      ingress: [{ from: [{ podSelector: { matchLabels: { app: 'ghost' } } }] }],
    });
    const ghostChain = policyChainName('ingress', 'np.early.knp.default.from-ghost');
    let podC: NetworkNamespace;
    let podD: NetworkNamespace;

    const startFelix = async (host: NetworkNamespace, datastore: Pick<Datastore, 'watch'>) => {
      const started = new Felix({
        datastore,
        nodeName: EARLY_NODE,
        runner: host.runner,
        routeDebounceMs: 0,
        interfacePollIntervalMs: 200,
        policy: {},
        log: { info: () => {}, warn: (message) => warnings.push(message) },
      });
      await started.start();
      return started;
    };
    /** Rules that jump or go to a workload endpoint chain (only the dispatch chains may). */
    const jumpsToEndpointChains = (saved: string) =>
      saved.split('\n').filter((line) => /^-A .* -[jg] mg-[tf]w-/.test(line));
    /**
     * What the kernel holds before in-sync: sets and policy, profile and endpoint chains only,
     * unreachable (no dispatch or static chain, no hook, nothing jumping to an endpoint chain).
     */
    const expectOnlyUnreferenced = async (host: NetworkNamespace) => {
      const saved = await run(host, ['iptables-save', '-t', 'filter']);
      const chains = chainsOf(saved);
      expect(chains).toEqual(
        expect.arrayContaining([expect.stringMatching(/^mg-pi-np\.early\./), 'mg-tw-mgec', 'mg-fw-mged']),
      );
      for (const name of chains) expect(name).toMatch(/^mg-(pi|po|pri|pro|tw|fw)-/);
      expect(jumpsIntoOurs(saved)).toEqual([]);
      expect(jumpsToEndpointChains(saved)).toEqual([]);
      expect(await run(host, ['iptables-save', '-t', 'nat'])).not.toContain('mg-');
      return saved;
    };

    beforeAll(async () => {
      for (const doc of [
        namespaceProfile('early'),
        pod('c', 'mgec', ipC, 'client', 'early', EARLY_NODE),
        pod('d', 'mged', ipD, 'server', 'early', EARLY_NODE),
        pod('friend', 'mgef', ipFriend, 'friend', 'early', 'node-other'),
        isolate,
        ghost,
      ]) {
        await put(doc);
      }
    }, 60_000);

    test('sets, policy and endpoint chains are written while the endpoint listing is held, unreachable until in-sync', async () => {
      const host = await namespaces.create('mg-enode');
      podC = await namespaces.create('mg-ec');
      podD = await namespaces.create('mg-ed');
      await wirePod(podC, 'mgec', ipC, host);
      await wirePod(podD, 'mged', ipD, host);
      await run(host, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      // The host routes the CNI plugin adds (felix's routes wait for the held listing too).
      await host.ip('route', 'add', `${ipC}/32`, 'dev', 'mgec', 'scope', 'link');
      await host.ip('route', 'add', `${ipD}/32`, 'dev', 'mged', 'scope', 'link');
      // FORWARD ACCEPT here (a fresh namespace's default, said explicitly): before felix hooks in,
      // c reaches d, so an early chain that took effect would show as a changed verdict.
      await run(host, ['iptables', '-P', 'FORWARD', 'ACCEPT']);
      expect(await ping(podC, ipD)).toBe(true);

      const held = holdingEndpointSync(store as EtcdDatastore);
      const early = await startFelix(host, held.datastore);
      try {
        await waitFor('an early apply', () => (early.policyStats()?.earlyApplies ?? 0) > 0, 20_000);
        expect(early.policyInSync).toBe(false);
        const saved = await expectOnlyUnreferenced(host);
        // The policy's chain matches the set of friends, which already holds the remote friend.
        expect(saved).toContain(selectorSet('friend'));
        expect(await run(host, ['ipset', 'list', selectorSet('friend')])).toContain(ipFriend);
        // d's endpoint chain is there and would cut c off (only friends may reach d), but nothing
        // reaches it: the verdict is what it was before felix.
        const isolateChain = policyChainName('ingress', 'np.early.knp.default.isolate-server');
        expect(saved.split('\n').filter((line) => line.startsWith('-A mg-tw-mged '))).toEqual(
          expect.arrayContaining([expect.stringContaining(`-j ${isolateChain}`)]),
        );
        expect(await ping(podC, ipD)).toBe(true);

        held.release();
        await awaitVerdict('c to be cut off from d once in sync', async () => !(await ping(podC, ipD)), {
          ns: host,
          warnings,
        });
        // from-ghost isolates c too, and d is no friend of c.
        expect(await ping(podD, ipC)).toBe(false);
        const inSync = await run(host, ['iptables-save', '-t', 'filter']);
        expect(jumpsIntoOurs(inSync).length).toBeGreaterThan(0);
        expect(jumpsToEndpointChains(inSync)).toEqual(
          expect.arrayContaining([expect.stringContaining('-g mg-tw-mged')]),
        );
        expect(early.policyStats()).toMatchObject({ failures: 0 });
      } finally {
        await early.stop();
      }
    }, 120_000);

    test('a start that never got in sync leaves unreachable state; the next start deletes what it no longer wants', async () => {
      const host = await namespaces.create('mg-enode2');
      // A local pod deleted between the starts (its interface need not exist for its chains).
      const gone = pod('gone', 'mgeg', `10.${octet}.1.3`, 'client', 'early', EARLY_NODE);
      await put(gone);
      const held = holdingEndpointSync(store as EtcdDatastore);
      const stopped = await startFelix(host, held.datastore);
      try {
        await waitFor('an early apply', () => (stopped.policyStats()?.earlyApplies ?? 0) > 0, 20_000);
        expect(chainsOf(await expectOnlyUnreferenced(host))).toEqual(
          expect.arrayContaining([ghostChain, 'mg-tw-mgeg', 'mg-fw-mgeg']),
        );
        await run(host, ['ipset', 'list', selectorSet('ghost')]);
      } finally {
        await stopped.stop(); // never in sync
      }
      // What remains is unreachable; the ghost policy goes before the next start.
      await expectOnlyUnreferenced(host);
      await store?.delete(ghost.key);
      await store?.delete(gone.key);

      // Our chains are in the kernel now: no early programming, everything at in-sync.
      const next = await startFelix(host, store as EtcdDatastore);
      try {
        await waitFor('the first apply', () => (next.policyStats()?.applies ?? 0) > 0, 20_000);
        expect(next.policyStats()?.earlyApplies).toBe(0);
        const saved = await run(host, ['iptables-save', '-t', 'filter']);
        expect(chainsOf(saved)).not.toContain(ghostChain);
        expect(chainsOf(saved).filter((name) => name.endsWith('-mgeg'))).toEqual([]);
        expect(chainsOf(saved)).toEqual(expect.arrayContaining(['mg-tw-mgec', 'mg-tw-mged']));
        expect(chainsOf(saved)).toContain(policyChainName('ingress', 'np.early.knp.default.isolate-server'));
        expect(jumpsIntoOurs(saved).length).toBeGreaterThan(0);
        expect(await run(host, ['ipset', 'list', '-n'])).not.toContain(selectorSet('ghost'));
      } finally {
        await next.stop();
        await put(ghost);
      }
    }, 120_000);
  });
});
