import { randomBytes } from 'node:crypto';
import { requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { ProcessRunner } from '../command';
import { NetworkNamespace } from '../netns';
import { type IptablesBackend, iptablesCommands } from './backend';
import { IPSET_MAX_ELEMENTS, IpSetManager } from './ipsets';
import { Table } from './table';
import type { Chain } from './types';

// What kube-proxy and Docker leave on a node: none of it may change by a single byte.
const FOREIGN_RULES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A FORWARD -o docker0 -j DOCKER
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable
COMMIT
`;

async function run(ns: NetworkNamespace, argv: string[], input?: string): Promise<string> {
  const result = await ns.runner.run(argv, input);
  if (result.code !== 0)
    throw new Error(`${argv.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}

/** The filter table as saved, without banners and counters (which move with traffic). */
async function saved(ns: NetworkNamespace, backend: IptablesBackend): Promise<string[]> {
  const out = await run(ns, [iptablesCommands(backend).save, '-t', 'filter']);
  return out
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.replace(/ \[\d+:\d+\]$/, ''));
}

const foreignOnly = (lines: string[]) => lines.filter((line) => !/mg-|mg:/.test(line));
const ours = (lines: string[]) => lines.filter((line) => /mg-|mg:/.test(line));

async function members(ns: NetworkNamespace, set: string): Promise<string[]> {
  const out = await run(ns, ['ipset', 'save', set]);
  return out
    .split('\n')
    .filter((line) => line.startsWith('add '))
    .map((line) => line.split(' ')[2] ?? '')
    .sort();
}

beforeAll(() => {
  requireRoot('iptables Table and IpSetManager integration tests');
  requireCommand('iptables-legacy-restore', 'iptables');
  requireCommand('iptables-nft-restore', 'iptables');
  requireCommand('ipset', 'ipset');
  requireCommand('ping', 'iputils-ping');
});

describe.each<IptablesBackend>(['legacy', 'nft'])('Table and IpSetManager with iptables-%s', (backend) => {
  let ns: NetworkNamespace | undefined;
  let foreign: string[] = [];

  beforeAll(async () => {
    ns = await NetworkNamespace.create('mg-ipt');
    await run(ns, [iptablesCommands(backend).restore], FOREIGN_RULES);
    foreign = await saved(ns, backend);
    expect(foreign).toContain(':FORWARD DROP');
    expect(foreign.some((line) => line.includes('KUBE-SERVICES'))).toBe(true);
  });

  afterAll(async () => {
    await ns?.delete();
  });

  const endpoint = (port: number): Chain => ({
    name: 'mg-tw-mgeth0',
    rules: [
      { match: '-m conntrack --ctstate ESTABLISHED,RELATED', action: '-j ACCEPT' },
      {
        match: `-p tcp --dport ${port} -m set --match-set mg4-s-web src`,
        action: '-j ACCEPT',
        comment: 'allow web',
      },
      { match: '', action: '-j DROP' },
    ],
  });
  const chains: Chain[] = [
    { name: 'mg-FORWARD', rules: [{ match: '-o mgeth0', action: '-g mg-tw-mgeth0' }] },
    { name: 'mg-INPUT', rules: [{ match: '-m set --match-set mg4-n-deny src', action: '-j DROP' }] },
    { name: 'mg-spare', rules: [{ match: '', action: '-j RETURN' }] },
    endpoint(80),
  ];

  function newWriters(): { table: Table; sets: IpSetManager } {
    const table = new Table({ runner: ns!.runner, name: 'filter', backend });
    const sets = new IpSetManager({ runner: ns!.runner });
    table.updateChains(chains);
    table.setHooks('FORWARD', [{ match: '', action: '-j mg-FORWARD' }]);
    table.setHooks('INPUT', [{ match: '', action: '-j mg-INPUT' }]);
    sets.replaceMembers({ name: 'mg4-s-web', type: 'hash:ip' }, ['10.0.0.1', '10.0.0.2']);
    sets.replaceMembers({ name: 'mg4-n-deny', type: 'hash:net' }, ['198.18.0.0/16', '192.0.2.9/32']);
    return { table, sets };
  }

  let writers: { table: Table; sets: IpSetManager } | undefined;

  test('programs sets, chains and hooks at the top of kernel chains, leaving foreign rules byte-identical', async () => {
    writers = newWriters();
    const setResult = await writers.sets.applyUpdates();
    const result = await writers.table.apply();
    expect(result.chainsWritten).toBe(6);
    expect(setResult.bytesWritten).toBeGreaterThan(0);
    const now = await saved(ns!, backend);
    expect(foreignOnly(now)).toEqual(foreign);
    const input = now.filter((line) => line.startsWith('-A INPUT '));
    const forward = now.filter((line) => line.startsWith('-A FORWARD '));
    expect(input[0]).toMatch(/--comment "?mg:[\w-]{16}"? -j mg-INPUT$/);
    expect(forward[0]).toMatch(/-j mg-FORWARD$/);
    expect(now.filter((line) => line.startsWith('-A mg-tw-mgeth0 '))).toHaveLength(3);
    expect(now.join('\n')).toContain('allow web');
    expect(await members(ns!, 'mg4-s-web')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(await members(ns!, 'mg4-n-deny')).toEqual(['192.0.2.9', '198.18.0.0/16']);
    // ipsets belong to the network namespace: the host's set list does not show ours.
    const host = await new ProcessRunner().run(['ipset', 'list', '-name']);
    expect(host.stdout.split('\n')).not.toContain('mg4-n-deny');
  });

  test('a change rewrites only the changed chain and set members; nothing changed writes nothing', async () => {
    const { table, sets } = writers!;
    expect(await table.apply()).toEqual({ chainsWritten: 0, bytesWritten: 0 });
    expect(await sets.applyUpdates()).toEqual({ bytesWritten: 0 });
    table.updateChains([endpoint(8080)]);
    sets.addMembers('mg4-s-web', ['10.0.0.3']);
    const setResult = await sets.applyUpdates();
    const result = await table.apply();
    expect(result.chainsWritten).toBe(1);
    expect(setResult.bytesWritten).toBe(
      Buffer.byteLength(
        `create mg4-s-web hash:ip family inet maxelem ${IPSET_MAX_ELEMENTS}\nadd mg4-s-web 10.0.0.3\n`,
      ),
    );
    const now = await saved(ns!, backend);
    expect(ours(now).filter((line) => line.includes('dport 8080'))).toHaveLength(1);
    expect(ours(now).filter((line) => line.includes('dport 80 '))).toHaveLength(0);
    expect(await members(ns!, 'mg4-s-web')).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(foreignOnly(now)).toEqual(foreign);
  });

  test('a set that grew past its first hash size takes more members, removals too, in a later restore', async () => {
    const sets = new IpSetManager({ runner: ns!.runner });
    const address = (n: number) => `10.9.${Math.floor(n / 256)}.${n % 256}`;
    const range = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => address(from + i));
    sets.replaceMembers({ name: 'mg4-s-grown', type: 'hash:ip' }, range(0, 3000));
    await sets.applyUpdates();
    // Its create line comes again before the changes (a no-op under -exist, and the kernel's
    // grown hash size does not count as different metadata).
    sets.addMembers('mg4-s-grown', range(3000, 6000));
    sets.removeMembers('mg4-s-grown', range(0, 10));
    await sets.applyUpdates();
    const kernel = await members(ns!, 'mg4-s-grown');
    expect(kernel).toHaveLength(5990);
    expect(kernel).toContain(address(5999));
    expect(kernel).not.toContain(address(9));
    await run(ns!, ['ipset', 'destroy', 'mg4-s-grown']);
  });

  test('a restarted writer adopts what is in the kernel without writing', async () => {
    const fresh = newWriters();
    fresh.table.updateChains([endpoint(8080)]);
    fresh.sets.addMembers('mg4-s-web', ['10.0.0.3']);
    expect(await fresh.sets.applyUpdates()).toEqual({ bytesWritten: 0 });
    expect(await fresh.table.apply()).toEqual({ chainsWritten: 0, bytesWritten: 0 });
  });

  test('refresh repairs a rule of ours deleted by hand, a foreign rule added to our chain and a moved hook', async () => {
    const { table } = writers!;
    const iptables = `iptables-${backend}`;
    await run(ns!, [iptables, '-D', 'mg-tw-mgeth0', '2']);
    await run(ns!, [iptables, '-A', 'mg-spare', '-j', 'ACCEPT']);
    await run(ns!, [iptables, '-I', 'FORWARD', '1', '-o', 'docker0', '-j', 'DOCKER']);
    const broken = await saved(ns!, backend);
    expect(broken.filter((line) => line.startsWith('-A mg-tw-mgeth0 '))).toHaveLength(2);
    const before = ours(broken);

    const result = await table.refresh();
    expect(result.chainsWritten).toBe(3);
    const now = await saved(ns!, backend);
    expect(now.filter((line) => line.startsWith('-A mg-tw-mgeth0 '))).toHaveLength(3);
    expect(now.filter((line) => line.startsWith('-A mg-spare '))).toHaveLength(1);
    expect(now.filter((line) => line.startsWith('-A FORWARD '))[0]).toMatch(/-j mg-FORWARD$/);
    expect(ours(now)).not.toEqual(before);
    // The hand-inserted foreign rule stays (below our hook); everything else foreign is as it was.
    await run(ns!, [iptables, '-D', 'FORWARD', '-o', 'docker0', '-j', 'DOCKER']);
    expect(foreignOnly(await saved(ns!, backend))).toEqual(foreign);
  });

  test('a set in use is swapped for a copy with new metadata; rules keep working', async () => {
    const { sets, table } = writers!;
    // A set of ours left by an older version with ipset's default maxelem, already used by mg-INPUT.
    await run(ns!, ['ipset', 'create', 'mg4-n-old', 'hash:net', 'maxelem', '65536']);
    table.updateChains([
      { name: 'mg-spare', rules: [{ match: '-m set --match-set mg4-n-old dst', action: '-j DROP' }] },
    ]);
    await table.apply();
    sets.resync();
    sets.replaceMembers({ name: 'mg4-n-old', type: 'hash:net' }, ['198.19.0.0/16']);
    await sets.applyUpdates();
    const header = (await run(ns!, ['ipset', 'save', 'mg4-n-old'])).split('\n')[0] ?? '';
    expect(header).toContain('maxelem 1048576');
    expect(await members(ns!, 'mg4-n-old')).toEqual(['198.19.0.0/16']);
    // Still the set our rule uses (a destroy and re-create would have been refused while in use).
    expect(await run(ns!, ['ipset', 'list', '-terse', 'mg4-n-old'])).toMatch(/References: 1/);
    expect(
      (await run(ns!, ['ipset', 'list', '-name'])).split('\n').filter((name) => name.startsWith('mgt-')),
    ).toEqual([]);
  });

  test('removing everything leaves only the foreign rules, and ipsets are destroyed after the rules', async () => {
    const { table, sets } = writers!;
    await run(ns!, ['ipset', 'create', 'KUBE-KEEP', 'hash:ip']);
    table.removeChains(chains.map((chain) => chain.name));
    table.setHooks('FORWARD', []);
    table.setHooks('INPUT', []);
    for (const name of ['mg4-s-web', 'mg4-n-deny', 'mg4-n-old']) sets.removeSet(name);
    await sets.applyUpdates();
    const result = await table.apply();
    expect(result.chainsWritten).toBe(6);
    await sets.applyDeletions();
    const now = await saved(ns!, backend);
    expect(ours(now)).toEqual([]);
    expect(now).toEqual(foreign);
    expect((await run(ns!, ['ipset', 'list', '-name'])).trim()).toBe('KUBE-KEEP');
  });
});

describe('rules are live: packets through a router namespace with FORWARD policy DROP', () => {
  const label = randomBytes(2).readUInt16BE() % 250;
  const a = `10.${label}.1.2`;
  const r1 = `10.${label}.1.1`;
  const b = `10.${label}.2.2`;
  const namespaces: NetworkNamespace[] = [];

  afterAll(async () => {
    for (const ns of namespaces) await ns.delete().catch(() => undefined);
  });

  async function wire(
    router: NetworkNamespace,
    host: NetworkNamespace,
    n: number,
    hostIp: string,
    routerIp: string,
  ) {
    await router.ip('link', 'add', `mgr${n}`, 'type', 'veth', 'peer', 'name', `mgh${n}`);
    await router.ip('link', 'set', `mgh${n}`, 'netns', host.name);
    await router.ip('addr', 'add', `${routerIp}/24`, 'dev', `mgr${n}`);
    await router.ip('link', 'set', `mgr${n}`, 'up');
    await host.ip('addr', 'add', `${hostIp}/24`, 'dev', `mgh${n}`);
    await host.ip('link', 'set', `mgh${n}`, 'up');
    await host.ip('route', 'add', 'default', 'via', routerIp);
  }

  const ping = async (from: NetworkNamespace, to: string) =>
    (await from.runner.run(['ping', '-c', '1', '-W', '1', to])).code === 0;

  test('a DROP in our chains blocks a ping (INPUT and FORWARD); removing it lets it through', async () => {
    const router = await NetworkNamespace.create('mg-rtr');
    namespaces.push(router);
    const hostA = await NetworkNamespace.create('mg-ha');
    namespaces.push(hostA);
    const hostB = await NetworkNamespace.create('mg-hb');
    namespaces.push(hostB);
    await wire(router, hostA, 1, a, r1);
    await wire(router, hostB, 2, b, `10.${label}.2.1`);
    await run(router, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    const table = new Table({ runner: router.runner, name: 'filter' }); // backend detected
    const backend = await table.backend();
    await run(router, [iptablesCommands(backend).restore], FOREIGN_RULES); // FORWARD policy DROP
    const sets = new IpSetManager({ runner: router.runner });

    // Nothing of ours yet: the Docker-like FORWARD policy drops a→b, INPUT lets a→router through.
    expect(await ping(hostA, b)).toBe(false);
    await waitFor('a to ping the router', () => ping(hostA, r1), 10_000);

    // Our FORWARD chain accepts pod traffic explicitly, so it flows despite the DROP policy.
    const forward = (blocked: boolean): Chain => ({
      name: 'mg-FORWARD',
      rules: [
        ...(blocked ? [{ match: '-m set --match-set mg4-s-blocked src', action: '-j DROP' }] : []),
        { match: '-i mgr+', action: '-j ACCEPT' },
      ],
    });
    sets.replaceMembers({ name: 'mg4-s-blocked', type: 'hash:ip' }, []);
    table.updateChains([
      forward(false),
      { name: 'mg-INPUT', rules: [{ match: `-s ${a} -p icmp`, action: '-j DROP' }] },
    ]);
    table.setHooks('FORWARD', [{ match: '', action: '-j mg-FORWARD' }]);
    table.setHooks('INPUT', [{ match: '', action: '-j mg-INPUT' }]);
    await sets.applyUpdates();
    await table.apply();
    await waitFor('a to ping b through our FORWARD accept', () => ping(hostA, b), 10_000);
    expect(await ping(hostA, r1)).toBe(false);

    // An ipset member and a DROP rule block forwarding; emptying the set lets it through again.
    table.updateChains([forward(true), { name: 'mg-INPUT', rules: [] }]);
    sets.addMembers('mg4-s-blocked', [a]);
    await sets.applyUpdates();
    await table.apply();
    expect(await ping(hostA, b)).toBe(false);
    await waitFor('a to ping the router once our INPUT drop is gone', () => ping(hostA, r1), 10_000);
    sets.removeMembers('mg4-s-blocked', [a]);
    await sets.applyUpdates();
    await waitFor('a to ping b once the set is empty', () => ping(hostA, b), 10_000);
  });
});
