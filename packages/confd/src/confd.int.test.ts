// margay-confd against real etcd and a real BIRD 2 on loopback addresses: what is written to etcd
// reaches the running BIRD without restarting it, a value BIRD would refuse leaves BIRD on its
// previous configuration with the reason in the status key, and a BIRD node configured this way
// meshes with a margay-bgpd node (BgpAgent) of the same cluster: each learns the other's block.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Resource,
  testBgpConfiguration,
  testNode,
  testPeer,
  testPool,
  writeResource,
} from '@margay/api';
import { FsmState } from '@margay/bgp';
import { EtcdDatastore } from '@margay/datastore';
import { Ipam } from '@margay/ipam';
import { BgpAgent } from '@margay/node';
import {
  EtcdServer,
  freePort,
  makeTempDir,
  removeTempDir,
  requireCommand,
  requireRoot,
  waitFor,
} from '@margay/testkit';
import { EXIT_ERROR, EXIT_OK, main } from './cli';
import { Confd } from './confd';
import { defaultTemplateDir, loadTemplates } from './render';
import { readConfdStatus } from './status';

jest.setTimeout(120_000);

const templates = loadTemplates(defaultTemplateDir());

interface Harness {
  readonly etcd: EtcdServer;
  readonly store: EtcdDatastore;
  readonly dir: string;
  /** A fresh 127.x.y.0/24 per test, so that parallel runs never share addresses. */
  readonly address: (n: number) => string;
  /** Fresh pods pool 10.x.0.0/16. */
  readonly pool: string;
  readonly port: number;
  readonly cleanups: (() => Promise<unknown> | unknown)[];
}

let harness: Harness | undefined;

beforeEach(async () => {
  requireRoot('BIRD 2 with its device protocol');
  requireCommand('bird', 'bird2');
  requireCommand('etcd', 'etcd-server');
  const subnet = `127.${randomInt(1, 255)}.${randomInt(1, 255)}`;
  const address = (n: number) => `${subnet}.${n}`;
  const etcd = await EtcdServer.start();
  const cleanups: Harness['cleanups'] = [() => etcd.stop()];
  const store = new EtcdDatastore({ endpoints: etcd.endpoints });
  cleanups.push(() => store.close());
  const dir = makeTempDir('confd-int');
  cleanups.push(() => removeTempDir(dir));
  harness = {
    etcd,
    store,
    dir,
    address,
    pool: `10.${randomInt(1, 255)}.0.0/16`,
    port: await freePort(address(1)),
    cleanups,
  };
});

afterEach(async () => {
  // Last in, first out: confd and BIRD before etcd and the temp dir.
  for (const cleanup of (harness?.cleanups ?? []).reverse()) {
    try {
      await cleanup();
    } catch {
      // keep cleaning up
    }
  }
  harness = undefined;
});

const write = (resource: Resource) => writeResource(harness!.store, resource);

/** The cluster: n1 runs BIRD, the others are only Node resources unless a test starts them. */
async function writeCluster(nodes: number): Promise<void> {
  const { address, port, pool } = harness!;
  await write(testBgpConfiguration('default', { bindMode: 'NodeIP', listenPort: port }));
  await write(testPool('pods', pool));
  for (let n = 1; n <= nodes; n++) await write(testNode(`n${n}`, { ipv4Address: `${address(n)}/8` }));
}

interface RunningBird {
  readonly process: ChildProcess;
  readonly socket: string;
  readonly configFile: string;
  birdc(command: string): string;
}

/** BIRD 2 in the foreground on `configFile`, killed by its pid at cleanup. */
async function startBird(configFile: string, netns?: string): Promise<RunningBird> {
  const { dir, cleanups } = harness!;
  const socket = join(dir, 'bird.ctl');
  const bird = ['bird', '-f', '-c', configFile, '-s', socket, '-P', join(dir, 'bird.pid')];
  // `ip netns exec` execs BIRD in place, so the child's pid is BIRD's.
  const [file, ...args] = netns === undefined ? bird : ['ip', 'netns', 'exec', netns, ...bird];
  const child = spawn(file!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const birdc = (command: string) => {
    if (child.exitCode !== null) throw new Error(`BIRD exited (${child.exitCode}): ${stderr}`);
    try {
      return execFileSync('birdc', ['-s', socket, ...command.split(' ')], {
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (error) {
      const { stdout, stderr: said } = error as { stdout?: string; stderr?: string };
      // birdc exits non-zero for answers like "Network not found": those are answers too.
      if (stdout?.includes(' ready.')) return stdout;
      throw new Error(`birdc ${command}: ${`${stdout ?? ''}${said ?? ''}`.trim()}`);
    }
  };
  await waitFor(
    'BIRD to answer on its control socket',
    () => {
      if (child.exitCode !== null) throw new Error(`BIRD exited (${child.exitCode}): ${stderr}`);
      try {
        return birdc('show status').includes('Daemon is up and running');
      } catch {
        return false;
      }
    },
    20_000,
  );
  return { process: child, socket, configFile, birdc };
}

function startConfd(bird: RunningBird, kernelRoutes = false): Confd {
  const confd = Confd.start({
    store: harness!.store,
    nodeName: 'n1',
    configFile: bird.configFile,
    birdSocket: bird.socket,
    templates,
    kernelRoutes,
    debounceMs: 20,
  });
  harness!.cleanups.push(() => confd.close());
  return confd;
}

/** Renders the first file (BIRD needs one to start), then starts BIRD on it and confd watching. */
async function birdNode(): Promise<{ bird: RunningBird; confd: Confd }> {
  const configFile = join(harness!.dir, 'bird.cfg');
  const first = await Confd.once({
    store: harness!.store,
    nodeName: 'n1',
    configFile,
    templates,
    kernelRoutes: false,
  });
  expect(first).toEqual({ outcome: 'applied' });
  const bird = await startBird(configFile);
  return { bird, confd: startConfd(bird) };
}

const protocolName = (prefix: string, address: string) => `${prefix}_${address.replace(/\./g, '_')}`;

test('nodes and peers added in etcd reach the running BIRD; a bad value leaves it on the previous configuration', async () => {
  const { address } = harness!;
  await writeCluster(2);
  const { bird, confd } = await birdNode();
  const pid = bird.process.pid;
  expect(bird.birdc('show protocols')).toContain(protocolName('Mesh', address(2)));

  // A new node: BIRD gets a mesh session to it by reconfiguration, not by a restart.
  await write(testNode('n3', { ipv4Address: `${address(3)}/8` }));
  // Until BIRD lists the new mesh peer.
  await waitFor('BIRD to list the mesh peer n3', () =>
    bird.birdc('show protocols').includes(protocolName('Mesh', address(3))),
  );

  // A global BGPPeer: a Global_ protocol.
  await write(testPeer('tor', { peerIP: address(9), asNumber: 65009 }));
  // Until BIRD lists the global peer.
  await waitFor('BIRD to list the global peer', () =>
    bird.birdc('show protocols').includes(protocolName('Global', address(9))),
  );
  expect(bird.process.pid).toBe(pid);
  expect(bird.process.exitCode).toBeNull();
  const good = readFileSync(bird.configFile, 'utf8');
  const sha256 = createHash('sha256').update(good).digest('hex');
  // Until the status names the file BIRD runs (it is written after the reload).
  await waitFor(
    'the status of the applied file',
    async () => (await readConfdStatus(harness!.store, 'n1'))?.config?.sha256 === sha256,
  );
  const goodStatus = await readConfdStatus(harness!.store, 'n1');
  expect(goodStatus).toMatchObject({ ok: true, config: { file: bird.configFile } });

  // Valid for the API, refused by BIRD: a keepalive longer than the hold time.
  await write(testPeer('slow', { peerIP: address(10), asNumber: 65010, keepaliveTime: '1h' }));
  // Until the status key reports the refusal.
  await waitFor(
    'the refusal in the status key',
    async () => (await readConfdStatus(harness!.store, 'n1'))?.ok === false,
  );
  const status = await readConfdStatus(harness!.store, 'n1');
  expect(status).toMatchObject({ ok: false, stage: 'check', config: goodStatus?.config });
  expect(status?.error).toContain('Keepalive time must be at most hold time');
  expect(confd.progress.last?.stage).toBe('check');
  // BIRD runs on, on the previous file, without the refused peer.
  expect(readFileSync(bird.configFile, 'utf8')).toBe(good);
  expect(bird.process.exitCode).toBeNull();
  const protocols = bird.birdc('show protocols');
  expect(protocols).toContain(protocolName('Global', address(9)));
  expect(protocols).not.toContain(protocolName('Global', address(10)));

  // Fixing the value applies it.
  await write(testPeer('slow', { peerIP: address(10), asNumber: 65010, keepaliveTime: '20s' }));
  // Until BIRD lists the fixed peer.
  await waitFor('BIRD to list the fixed peer', () =>
    bird.birdc('show protocols').includes(protocolName('Global', address(10))),
  );
  await waitFor(
    'the status back to ok',
    async () => (await readConfdStatus(harness!.store, 'n1'))?.ok === true,
  );
  expect(bird.process.pid).toBe(pid);
});

/**
 * A namespace for the BIRD node joined to the host by a veth: BIRD's side is `inside`, the
 * host's (where in-process margay-bgpd speakers listen) `outside` and `outside2`, in a fresh /29.
 * BIRD resolves next hops over the connected veth and may program the namespace's kernel.
 */
function birdNamespace(): { name: string; inside: string; outside: string; outside2: string } {
  const id = randomBytes(3).toString('hex');
  const name = `mcd-${id}`;
  const [hostSide, nsSide] = [`mcdh${id}`, `mcdn${id}`];
  const net = `10.${randomInt(1, 255)}.${randomInt(0, 255)}`;
  const base = randomInt(0, 32) * 8;
  const [outside, inside, outside2] = [`${net}.${base + 1}`, `${net}.${base + 2}`, `${net}.${base + 3}`];
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  ip('netns', 'add', name);
  harness!.cleanups.push(() => {
    execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
    // Deleting the namespace takes the veth pair with it; this only tidies a half-made setup.
    if (execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).includes(`${hostSide}@`))
      ip('link', 'del', hostSide);
  });
  ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', nsSide, 'netns', name);
  ip('addr', 'add', `${outside}/29`, 'dev', hostSide);
  ip('addr', 'add', `${outside2}/29`, 'dev', hostSide);
  ip('link', 'set', hostSide, 'up');
  ip('-n', name, 'link', 'set', 'lo', 'up');
  ip('-n', name, 'addr', 'add', `${inside}/29`, 'dev', nsSide);
  ip('-n', name, 'link', 'set', nsSide, 'up');
  return { name, inside, outside, outside2 };
}

test('a BIRD node and a margay-bgpd node of one mesh learn each other’s blocks; BIRD programs the kernel', async () => {
  const { store, cleanups, dir, pool, etcd } = harness!;
  const ns = birdNamespace();
  const port = await freePort(ns.outside);
  await write(testBgpConfiguration('default', { bindMode: 'NodeIP', listenPort: port }));
  await write(testPool('pods', pool));
  await write(testNode('n1', { ipv4Address: `${ns.inside}/29` }));
  await write(testNode('n2', { ipv4Address: `${ns.outside}/29` }));
  const ipam = new Ipam(store);
  const { block: birdBlock } = await ipam.assign({ handle: 'pod-on-n1', node: 'n1' });
  const { block: bgpdBlock } = await ipam.assign({ handle: 'pod-on-n2', node: 'n2' });

  // n1: BIRD in the namespace, configured by confd with kernel programming on.
  const configFile = join(dir, 'bird.cfg');
  const once = await Confd.once({ store, nodeName: 'n1', configFile, templates, kernelRoutes: true });
  expect(once).toEqual({ outcome: 'applied' });
  const bird = await startBird(configFile, ns.name);
  startConfd(bird, true);

  // n2: margay-bgpd (the node agent's speaker) in this process, not programming the host.
  const agentStore = new EtcdDatastore({ endpoints: etcd.endpoints });
  cleanups.push(() => agentStore.close());
  const agent = BgpAgent.start({ store: agentStore, nodeName: 'n2' });
  cleanups.push(() => agent.close());
  const session = () => agent.server?.peerViews().find((p) => p.address === ns.inside);
  // Until the BIRD–margay-bgpd session is up.
  await waitFor('the n1–n2 session', () => session()?.state === FsmState.Established, 60_000);
  expect(bird.birdc(`show protocols ${protocolName('Mesh', ns.outside)}`)).toContain('Established');

  // margay-bgpd learns BIRD's block from n1.
  await waitFor("n1's block at n2", () =>
    [...(agent.server?.routes({ prefix: birdBlock }) ?? [])].some((r) => r.fromPeer === ns.inside && r.best),
  );
  // BIRD learns margay-bgpd's block, reachable through n2's address, and installs it in its kernel.
  await waitFor("n2's block at n1", () =>
    bird.birdc(`show route ${bgpdBlock}`).includes(`via ${ns.outside}`),
  );
  await waitFor("n2's block in n1's kernel", () =>
    execFileSync('ip', ['-n', ns.name, 'route', 'show', bgpdBlock], { encoding: 'utf8' }).includes(
      `via ${ns.outside}`,
    ),
  );
  // BIRD's own block stays a blackhole in BIRD and out of the kernel.
  expect(execFileSync('ip', ['-n', ns.name, 'route', 'show', birdBlock], { encoding: 'utf8' })).toBe('');
});

/** margay-bgpd for `nodeName`, in this process, not programming the host. */
function startAgent(nodeName: string): BgpAgent {
  const { etcd, cleanups } = harness!;
  const agentStore = new EtcdDatastore({ endpoints: etcd.endpoints });
  cleanups.push(() => agentStore.close());
  const agent = BgpAgent.start({ store: agentStore, nodeName });
  cleanups.push(() => agent.close());
  return agent;
}

const learned = (agent: BgpAgent, prefix: string, from: string) =>
  [...(agent.server?.routes({ prefix }) ?? [])].some((r) => r.fromPeer === from && r.best);

/** n1 (BIRD, in the namespace), n2 and n3 (margay-bgpd); no mesh, everyone peers with `rr == 'true'`. */
async function reflectedCluster(reflector: 'n1' | 'n2') {
  const { store, dir, pool } = harness!;
  const ns = birdNamespace();
  const port = await freePort(ns.outside);
  const rr = (node: string) => (node === reflector ? { routeReflectorClusterID: '244.0.0.1' } : {});
  const labels = (node: string): Record<string, string> => (node === reflector ? { rr: 'true' } : {});
  await write(
    testBgpConfiguration('default', { bindMode: 'NodeIP', listenPort: port, nodeToNodeMeshEnabled: false }),
  );
  await write(testPool('pods', pool));
  await write(testNode('n1', { ipv4Address: `${ns.inside}/29`, ...rr('n1') }, labels('n1')));
  await write(testNode('n2', { ipv4Address: `${ns.outside}/29`, ...rr('n2') }, labels('n2')));
  await write(testNode('n3', { ipv4Address: `${ns.outside2}/29` }));
  await write(testPeer('to-reflectors', { nodeSelector: 'all()', peerSelector: "rr == 'true'" }));
  const ipam = new Ipam(store);
  const blocks = {
    n1: (await ipam.assign({ handle: 'pod-on-n1', node: 'n1' })).block,
    n2: (await ipam.assign({ handle: 'pod-on-n2', node: 'n2' })).block,
    n3: (await ipam.assign({ handle: 'pod-on-n3', node: 'n3' })).block,
  };
  const configFile = join(dir, 'bird.cfg');
  expect(await Confd.once({ store, nodeName: 'n1', configFile, templates, kernelRoutes: true })).toEqual({
    outcome: 'applied',
  });
  const bird = await startBird(configFile, ns.name);
  startConfd(bird, true);
  return { ns, bird, blocks, n2: startAgent('n2'), n3: startAgent('n3') };
}

test('a BIRD route reflector reflects between margay-bgpd clients', async () => {
  const { ns, bird, blocks, n2, n3 } = await reflectedCluster('n1');
  expect(bird.birdc(`show protocols all ${protocolName('Node', ns.outside)}`)).toContain(
    'Description:    node specific (route reflector client)',
  );
  // Until each client has the other's block, reflected by BIRD (n1).
  await waitFor("n3's block at n2 through the reflector", () => learned(n2, blocks.n3, ns.inside), 60_000);
  await waitFor("n2's block at n3 through the reflector", () => learned(n3, blocks.n2, ns.inside), 60_000);
  await waitFor("the reflector's own block at n2", () => learned(n2, blocks.n1, ns.inside), 60_000);
  // The clients do not peer with each other.
  expect(n2.server?.peerViews().map((p) => p.address)).toEqual([ns.inside]);
});

test('a BIRD client learns through a margay-bgpd route reflector and installs the reflected routes', async () => {
  const { ns, bird, blocks, n2, n3 } = await reflectedCluster('n2');
  expect(bird.birdc('show protocols')).not.toContain(protocolName('Node', ns.outside2));
  // Until BIRD (n1) has n3's block from the reflector, with n3 as next hop, in its kernel too.
  await waitFor(
    "n3's block at n1 through the reflector",
    () => bird.birdc(`show route ${blocks.n3}`).includes(`via ${ns.outside2}`),
    60_000,
  );
  await waitFor("n3's block in n1's kernel", () =>
    execFileSync('ip', ['-n', ns.name, 'route', 'show', blocks.n3], { encoding: 'utf8' }).includes(
      `via ${ns.outside2}`,
    ),
  );
  // And n3 has BIRD's block through the reflector.
  await waitFor("n1's block at n3 through the reflector", () => learned(n3, blocks.n1, ns.outside), 60_000);
  expect(learned(n2, blocks.n1, ns.inside)).toBe(true);
});

test('margay-confd --once renders from etcd and exits 0; a node etcd does not know exits 1, saying why', async () => {
  const { etcd, dir, store } = harness!;
  await writeCluster(2);
  const env = { ETCD_ENDPOINTS: etcd.endpoints.join(',') };
  const out = { stdout: '', stderr: '' };
  const io = {
    stdout: { write: (text: string) => (out.stdout += text) },
    stderr: { write: (text: string) => (out.stderr += text) },
  };
  const configFile = join(dir, 'once.cfg');
  expect(
    await main(['--once', '--node-name=n2', `--config-file=${configFile}`, '--kernel-routes=off'], io, env),
  ).toBe(EXIT_OK);
  expect(readFileSync(configFile, 'utf8')).toContain(
    `protocol bgp ${protocolName('Mesh', harness!.address(1))} {`,
  );
  expect(await readConfdStatus(store, 'n2')).toMatchObject({ ok: true });

  expect(await main(['--once', '--node-name=n9', `--config-file=${join(dir, 'n9.cfg')}`], io, env)).toBe(
    EXIT_ERROR,
  );
  expect(out.stderr).toContain('node n9: no Node resource with spec.bgp.ipv4Address yet');
  expect(await readConfdStatus(store, 'n9')).toMatchObject({
    ok: false,
    stage: 'render',
    error: 'node n9: no Node resource with spec.bgp.ipv4Address yet',
  });
});
