import {
  type CommandRunner,
  type PrimeResult,
  type RecordedCommand,
  RecordingRunner,
} from '@margay/dataplane';
import type { Datastore, WatchEvent, WatchOptions } from '@margay/datastore';
import { waitFor } from '@margay/testkit';
import { Felix } from './felix';
import { policyChainName } from './policy/render';
import {
  FakeIpSets,
  FakeTable,
  kubernetesPolicy,
  namespaceProfile,
  stored,
  workload,
} from './policy/testing';
import { affinityKey, CONFIRMED, endpointDocument, keyValue } from './testing';

/** A datastore whose watches the test drives by hand. */
class ScriptedWatches implements Pick<Datastore, 'watch'> {
  readonly handlers = new Map<string, WatchOptions>();
  closed = 0;

  watch(prefix: string, options: WatchOptions) {
    this.handlers.set(prefix, options);
    return { close: async () => void this.closed++ };
  }

  emit(prefixStart: string, event: WatchEvent): void {
    const entry = [...this.handlers].find(([prefix]) => prefix.startsWith(prefixStart));
    if (entry === undefined) throw new Error(`no watch on ${prefixStart}`);
    entry[1].onEvent(event);
  }
}

const ENDPOINTS = '/margay/resources/v1/workloadendpoints/';
const AFFINITIES = '/margay/ipam/v2/host/node-a/';

function kernel(command: RecordedCommand) {
  if (command.argv.join(' ') === 'ip -j link show') {
    return { stdout: JSON.stringify([{ ifname: 'mgweb', flags: ['UP'] }]) };
  }
  return {};
}

describe('Felix', () => {
  test('reads interfaces, programs nothing before both watches are in sync, then programs the snapshot', async () => {
    const datastore = new ScriptedWatches();
    const runner = new RecordingRunner(kernel);
    const felix = new Felix({ datastore, nodeName: 'node-a', runner, routeDebounceMs: 0 });
    await felix.start();
    try {
      expect([...datastore.handlers.keys()]).toEqual([ENDPOINTS, AFFINITIES]);
      const web = endpointDocument({
        name: 'web',
        node: 'node-a',
        interfaceName: 'mgweb',
        ipNetworks: ['10.0.1.5/32'],
      });
      datastore.emit(ENDPOINTS, { type: 'put', kv: keyValue(web.key, web.value, 2) });
      datastore.emit(ENDPOINTS, { type: 'in-sync', revision: 2 });
      const block = affinityKey('node-a', '10.0.1.0/26');
      datastore.emit(AFFINITIES, { type: 'put', kv: keyValue(block, CONFIRMED, 3) });
      expect(felix.inSync).toBe(false);
      // Let anything felix might have started run before looking.
      await new Promise((resolve) => setImmediate(resolve));
      expect(runner.commands.map((c) => c.argv.join(' '))).toEqual(['ip -j link show']);

      datastore.emit(AFFINITIES, { type: 'in-sync', revision: 3 });
      expect(felix.inSync).toBe(true);
      await waitFor('the first batch', () => runner.batches().length === 1);
      expect(runner.batches()).toEqual([
        'route replace blackhole 10.0.1.0/26 proto 78 table 254 metric 0\n' +
          'route replace 10.0.1.5/32 dev mgweb scope link proto 78 table 254 metric 0\n',
      ]);

      datastore.emit(AFFINITIES, {
        type: 'delete',
        key: block,
        prev: keyValue(block, CONFIRMED, 3),
        revision: 4,
      });
      await waitFor('the second batch', () => runner.batches().length === 2);
      expect(runner.batches()[1]).toBe('route del 10.0.1.0/26 proto 78 table 254 metric 0\n');
    } finally {
      await felix.stop();
    }
    expect(datastore.closed).toBe(2);
    // Stopping removes nothing.
    expect(runner.batches()).toHaveLength(2);
  });

  test('watches list while the interfaces are read; routes wait for the interfaces', async () => {
    const datastore = new ScriptedWatches();
    const runner = new RecordingRunner(kernel);
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowLinks: CommandRunner = {
      run: async (argv, input) => {
        if (argv.join(' ') === 'ip -j link show') await held;
        return runner.run(argv, input);
      },
    };
    const felix = new Felix({ datastore, nodeName: 'node-a', runner: slowLinks, routeDebounceMs: 0 });
    const started = felix.start();
    try {
      // The watches are open before the interfaces are known, and their snapshots arrive.
      expect([...datastore.handlers.keys()]).toEqual([ENDPOINTS, AFFINITIES]);
      const web = endpointDocument({
        name: 'web',
        node: 'node-a',
        interfaceName: 'mgweb',
        ipNetworks: ['10.0.1.5/32'],
      });
      datastore.emit(ENDPOINTS, { type: 'put', kv: keyValue(web.key, web.value, 2) });
      datastore.emit(ENDPOINTS, { type: 'in-sync', revision: 2 });
      datastore.emit(AFFINITIES, { type: 'in-sync', revision: 3 });
      expect(felix.inSync).toBe(true);
      await new Promise((resolve) => setImmediate(resolve));
      expect(runner.batches()).toEqual([]);

      release();
      await started;
      await waitFor('the first batch', () => runner.batches().length === 1);
      // Programmed with the interface known: a route through it, not a reconcile that drops it.
      expect(runner.batches()).toEqual([
        'route replace 10.0.1.5/32 dev mgweb scope link proto 78 table 254 metric 0\n',
      ]);
    } finally {
      release();
      await started.catch(() => {});
      await felix.stop();
    }
  });

  test('a failed interface read fails start and closes the watches it opened', async () => {
    const datastore = new ScriptedWatches();
    const runner = new RecordingRunner((command) =>
      command.argv.join(' ') === 'ip -j link show' ? { code: 1, stderr: 'Cannot open netlink socket' } : {},
    );
    const felix = new Felix({ datastore, nodeName: 'node-a', runner });
    await expect(felix.start()).rejects.toThrow('ip -j link show failed (1): Cannot open netlink socket');
    expect(datastore.closed).toBe(2);
    await felix.stop();
  });

  test('a watch whose listing fails says so, with the prefix and the error, each time', async () => {
    const runner = new RecordingRunner(kernel);
    const datastore = new ScriptedWatches();
    const warnings: string[] = [];
    const felix = new Felix({
      datastore,
      nodeName: 'node-a',
      runner,
      log: { info: () => {}, warn: (message) => warnings.push(message) },
    });
    await felix.start();
    try {
      const endpoints = datastore.handlers.get(ENDPOINTS);
      endpoints?.onListError?.(new Error('etcd at 127.0.0.1:1: message larger than max'));
      endpoints?.onListError?.(new Error('etcd at 127.0.0.1:1: unavailable'));
      expect(warnings).toEqual([
        `felix endpoints watch: listing ${ENDPOINTS} failed, retrying: etcd at 127.0.0.1:1: message larger than max`,
        `felix endpoints watch: listing ${ENDPOINTS} failed, retrying: etcd at 127.0.0.1:1: unavailable`,
      ]);
      expect(felix.inSync).toBe(false);
    } finally {
      await felix.stop();
    }
  });

  test('rejects a bad node name and a second start', async () => {
    const runner = new RecordingRunner(kernel);
    expect(() => new Felix({ datastore: new ScriptedWatches(), nodeName: 'Node A', runner })).toThrow(
      /Node name/,
    );
    const felix = new Felix({ datastore: new ScriptedWatches(), nodeName: 'node-a', runner });
    await felix.start();
    await expect(felix.start()).rejects.toThrow('Felix cannot start: it is already started');
    await felix.stop();
  });

  test('with policy: watches the policy kinds, touches no table before every snapshot, then programs policy', async () => {
    const datastore = new ScriptedWatches();
    const runner = new RecordingRunner(kernel);
    const filter = new FakeTable('filter');
    const nat = new FakeTable('nat');
    const ipSets = new FakeIpSets();
    let started = 0;
    const felix = new Felix({
      datastore,
      nodeName: 'node-a',
      runner,
      routeDebounceMs: 0,
      policy: { dataplane: () => ({ filter, nat, ipSets, start: () => void started++ }), debounceMs: 0 },
    });
    await felix.start();
    try {
      const prefixes = [...datastore.handlers.keys()];
      expect(prefixes).toEqual([
        ENDPOINTS,
        AFFINITIES,
        '/margay/resources/v1/hostendpoints/',
        '/margay/resources/v1/networkpolicies/',
        '/margay/resources/v1/globalnetworkpolicies/',
        '/margay/resources/v1/profiles/',
        '/margay/resources/v1/ippools/',
        '/margay/resources/v1/felixconfigurations/',
      ]);
      const web = workload({
        name: 'web',
        namespace: 'shop',
        node: 'node-a',
        interfaceName: 'mgweb',
        ip: '10.0.1.5',
        labels: { app: 'web' },
      });
      const denyAll = kubernetesPolicy('shop', 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] });
      datastore.emit(ENDPOINTS, { type: 'put', kv: stored(web) });
      datastore.emit('/margay/resources/v1/profiles/', { type: 'put', kv: stored(namespaceProfile('shop')) });
      datastore.emit('/margay/resources/v1/networkpolicies/', { type: 'put', kv: stored(denyAll) });
      for (const prefix of prefixes.filter((p) => p !== AFFINITIES && !p.includes('ippools'))) {
        datastore.emit(prefix, { type: 'in-sync', revision: 5 });
      }
      await new Promise((resolve) => setImmediate(resolve));
      expect(felix.policyInSync).toBe(false);
      expect(filter.applies + nat.applies + ipSets.calls.length + started).toBe(0);

      datastore.emit('/margay/resources/v1/ippools/', { type: 'in-sync', revision: 5 });
      expect(felix.policyInSync).toBe(true);
      await waitFor('the first policy apply', () => felix.policyStats()?.applies === 1);
      expect(started).toBe(1);
      const ingress = filter.ruleTexts('mg-tw-mgweb');
      const policyChain = policyChainName('ingress', 'np.shop.knp.default.deny-all');
      expect(ingress).toContainEqual(expect.stringContaining(`-j ${policyChain}`));
      expect(felix.policyStats()).toMatchObject({ localEndpoints: 1, activePolicies: 1, activeProfiles: 1 });

      // The policy goes: the endpoint chain is rewritten and the policy chains removed.
      datastore.emit('/margay/resources/v1/networkpolicies/', {
        type: 'delete',
        key: denyAll.key,
        prev: stored(denyAll),
        revision: 6,
      });
      await waitFor('the second policy apply', () => felix.policyStats()?.applies === 2);
      expect(filter.ruleTexts('mg-tw-mgweb').some((text) => text.includes('mg-pi-'))).toBe(false);
      expect([...filter.chains.keys()].some((name) => name.startsWith('mg-pi-'))).toBe(false);
      // Routes are unaffected by policy: the affinity watch has not synced, so no route was written.
      expect(runner.batches()).toEqual([]);
    } finally {
      await felix.stop();
    }
    expect(datastore.closed).toBe(8);
  });
  describe('with policy: early programming while the snapshot arrives', () => {
    /** Fakes whose prime reports `ours` chains/sets of ours in the kernel. */
    function primedDataplane(ours: { filter: number; nat: number; ipSets: number }) {
      class PrimedTable extends FakeTable {
        async prime(): Promise<PrimeResult> {
          return { ours: this.name === 'nat' ? ours.nat : ours.filter };
        }
      }
      class PrimedIpSets extends FakeIpSets {
        async prime(): Promise<PrimeResult> {
          return { ours: ours.ipSets };
        }
      }
      return { filter: new PrimedTable('filter'), nat: new PrimedTable('nat'), ipSets: new PrimedIpSets() };
    }

    /** Felix with those fakes, fed a namespace, a local pod and a policy selecting it; not in sync. */
    async function startWithSnapshotPending(
      ours: { filter: number; nat: number; ipSets: number },
      earlyProgramming?: boolean,
    ) {
      const datastore = new ScriptedWatches();
      const dataplane = primedDataplane(ours);
      const info: string[] = [];
      const felix = new Felix({
        datastore,
        nodeName: 'node-a',
        runner: new RecordingRunner(kernel),
        log: { info: (message) => info.push(message), warn: () => {} },
        policy: {
          dataplane: () => dataplane,
          debounceMs: 0,
          ...(earlyProgramming !== undefined && { earlyProgramming }),
        },
      });
      await felix.start();
      const web = workload({
        name: 'web',
        namespace: 'shop',
        node: 'node-a',
        interfaceName: 'mgweb',
        ip: '10.0.1.5',
      });
      const denyAll = kubernetesPolicy('shop', 'deny-all', { podSelector: {}, policyTypes: ['Ingress'] });
      datastore.emit('/margay/resources/v1/profiles/', { type: 'put', kv: stored(namespaceProfile('shop')) });
      datastore.emit('/margay/resources/v1/networkpolicies/', { type: 'put', kv: stored(denyAll) });
      datastore.emit(ENDPOINTS, { type: 'put', kv: stored(web) });
      // Every policy input but the endpoints is in sync: the endpoint listing is still running.
      for (const prefix of datastore.handlers.keys()) {
        if (prefix !== ENDPOINTS) datastore.emit(prefix, { type: 'in-sync', revision: 5 });
      }
      const syncEndpoints = () => datastore.emit(ENDPOINTS, { type: 'in-sync', revision: 5 });
      return { felix, ...dataplane, info, syncEndpoints };
    }

    test('on a fresh kernel only unreferenced state (sets, policy and endpoint chains) is applied before in-sync; the rest at in-sync', async () => {
      const { felix, filter, nat, ipSets, info, syncEndpoints } = await startWithSnapshotPending({
        filter: 0,
        nat: 0,
        ipSets: 0,
      });
      try {
        await waitFor('an early apply', () => (felix.policyStats()?.earlyApplies ?? 0) > 0);
        expect(felix.policyInSync).toBe(false);
        expect(info).toContain(
          'felix policy: no chains or sets of ours in the kernel: writing unreferenced ones early',
        );
        // Policy, profile and endpoint chains, additively; no dispatch, static chains or hooks,
        // nothing in nat, no set destroyed.
        const staged = [...filter.chains.keys()];
        expect(staged).toEqual(
          expect.arrayContaining([
            policyChainName('ingress', 'np.shop.knp.default.deny-all'),
            'mg-tw-mgweb',
            'mg-fw-mgweb',
          ]),
        );
        for (const name of staged) expect(name).toMatch(/^mg-(pi|po|pri|pro|tw|fw)-/);
        expect(filter.additive.every((additive) => additive)).toBe(true);
        expect(filter.hooks.size + nat.applies + nat.chains.size).toBe(0);
        expect(ipSets.calls.some((call) => call.op === 'applyDeletions')).toBe(false);
        expect(felix.policyStats()?.applies).toBe(0);

        syncEndpoints();
        await waitFor('the first full apply', () => felix.policyStats()?.applies === 1);
        expect(filter.additive.at(-1)).toBe(false);
        expect([...filter.chains.keys()]).toEqual(
          expect.arrayContaining(['mg-FORWARD', 'mg-to-wl-dispatch', 'mg-tw-mgweb']),
        );
        expect(filter.ruleTexts('mg-tw-mgweb').join('\n')).toContain(
          `-j ${policyChainName('ingress', 'np.shop.knp.default.deny-all')}`,
        );
        expect([...filter.hooks.keys()]).toEqual(expect.arrayContaining(['FORWARD', 'INPUT', 'OUTPUT']));
        expect(ipSets.calls.at(-1)).toEqual({ op: 'applyDeletions' });
      } finally {
        await felix.stop();
      }
    });

    test.each([
      ['a restart: chains of ours in filter', { filter: 3, nat: 0, ipSets: 0 }, undefined],
      ['a restart: hook rules of ours in nat', { filter: 0, nat: 1, ipSets: 0 }, undefined],
      ['a restart: sets of ours', { filter: 0, nat: 0, ipSets: 2 }, undefined],
      ['a fresh kernel, earlyProgramming off', { filter: 0, nat: 0, ipSets: 0 }, false],
    ])('%s: nothing is applied before in-sync', async (_what, ours, earlyProgramming) => {
      const { felix, filter, nat, ipSets, info, syncEndpoints } = await startWithSnapshotPending(
        ours,
        earlyProgramming,
      );
      try {
        // Give the primes and any debounce time to act before looking.
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(filter.applies + nat.applies + ipSets.calls.length).toBe(0);
        expect(felix.policyStats()?.earlyApplies).toBe(0);
        expect(info.some((message) => message.includes('early'))).toBe(false);
        syncEndpoints();
        await waitFor('the first full apply', () => felix.policyStats()?.applies === 1);
        expect(filter.additive).toEqual([false]);
        expect(filter.chains.has('mg-tw-mgweb')).toBe(true);
      } finally {
        await felix.stop();
      }
    });
  });

  test('with policy: reads the tables and sets at start, before any snapshot; a failed read is only a warning', async () => {
    const datastore = new ScriptedWatches();
    const primed: string[] = [];
    class PrimedTable extends FakeTable {
      async prime(): Promise<PrimeResult> {
        primed.push(this.name);
        if (this.name === 'nat') throw new Error('iptables-nft-save: Permission denied');
        return { ours: 0 };
      }
    }
    class PrimedIpSets extends FakeIpSets {
      async prime(): Promise<PrimeResult> {
        primed.push('ipsets');
        return { ours: 0 };
      }
    }
    const filter = new PrimedTable('filter');
    const nat = new PrimedTable('nat');
    const warnings: string[] = [];
    const felix = new Felix({
      datastore,
      nodeName: 'node-a',
      runner: new RecordingRunner(kernel),
      log: { info: () => {}, warn: (message) => warnings.push(message) },
      policy: { dataplane: () => ({ filter, nat, ipSets: new PrimedIpSets() }), debounceMs: 0 },
    });
    await felix.start();
    try {
      expect(primed.sort()).toEqual(['filter', 'ipsets', 'nat']);
      expect(filter.applies + nat.applies).toBe(0);
      await waitFor('the warning', () => warnings.length > 0);
      expect(warnings).toEqual([
        'reading iptables nat ahead of the first apply failed (it reads again): iptables-nft-save: Permission denied',
      ]);
      for (const prefix of datastore.handlers.keys())
        datastore.emit(prefix, { type: 'in-sync', revision: 1 });
      await waitFor('the first policy apply', () => felix.policyStats()?.applies === 1);
      expect(primed).toHaveLength(3);
    } finally {
      await felix.stop();
    }
  });
});
