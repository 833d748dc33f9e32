// BIRD nodes and margay-bgpd nodes in one cluster (issue #8): node-1 and node-2 run margay-node
// with --bgp-daemon bird (BIRD 2 configured by margay-confd), node-3..node-5 run margay's own
// speaker. Every pod reaches every other in a full mesh; a node joining and a BGPPeer written to
// etcd reach the running BIRD by reconfiguration (same pid); a value BIRD refuses leaves BIRD on
// its previous configuration and shows in `margayctl node status`; then route reflection both
// ways: BIRD reflecting for margay-bgpd clients, and margay-bgpd reflecting for BIRD clients.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeResource,
  encodeResource,
  type Node,
  type Resource,
  resourceKey,
  validateResource,
} from '@margay/api';
import { EtcdDatastore } from '@margay/datastore';
import { makeTempDir, removeTempDir, requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { Cluster } from './cluster';
import { applyPool, routesOf, waitForPing } from './routing-support';
import { freshClusterName } from './test-support';

jest.setTimeout(300_000);

const MARGAYCTL = join(__dirname, '..', '..', 'bin', 'margayctl');
const BIRD_NODES = ['node-1', 'node-2'];
const BGPD_NODES = ['node-3', 'node-4'];
const LATE_NODE = 'node-5';
const BIRD_START_TIMEOUT_MS = 60_000;
/** rtnetlink protocol of the routes BIRD installs (RTPROT_BIRD). */
const BIRD_PROTO = 12;

const resource = (kind: string, name: string, spec: object, labels?: Record<string, string>) =>
  validateResource({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, labels }, spec }, 'test');

describe('BIRD nodes and margay-bgpd nodes in one cluster', () => {
  const name = freshClusterName('bird');
  let cluster: Cluster;
  let store: EtcdDatastore | undefined;
  let runDir: string | undefined;
  const pods: string[] = [];

  const write = (r: Resource) => store!.put(resourceKey(r.kind, r.metadata.name), encodeResource(r));
  const remove = (kind: 'BGPPeer', peerName: string) => store!.delete(resourceKey(kind, peerName));
  const birdDir = (node: string) => join(runDir!, node);
  const socketOf = (node: string) => join(birdDir(node), 'bird.ctl');
  const addressOf = (node: string) => cluster.node(node).address.split('/')[0]!;
  const protocolName = (prefix: string, address: string) => `${prefix}_${address.replace(/\./g, '_')}`;

  const startBirdNode = (node: string) =>
    cluster.startAgent(node, {
      args: ['--bgp-daemon', 'bird', '--bird-run-dir', birdDir(node)],
      timeoutMs: BIRD_START_TIMEOUT_MS,
    });

  beforeAll(async () => {
    requireRoot('the BIRD nodes e2e test');
    requireCommand('bird', 'bird2');
    requireCommand('birdc', 'bird2');
    requireCommand('ping', 'iputils-ping');
    runDir = makeTempDir('bird-nodes');
    cluster = await Cluster.up({ nodes: 5, name });
    store = new EtcdDatastore({ endpoints: cluster.status().etcd.endpoints });
    await write(resource('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: true }));
    await applyPool(cluster, '10.244.0.0/16', 26);
    await Promise.all([
      ...BIRD_NODES.map(startBirdNode),
      ...BGPD_NODES.map((node) => cluster.startAgent(node)),
    ]);
    for (const node of [...BIRD_NODES, ...BGPD_NODES]) {
      await cluster.addPod(node, `pod-${node}`);
      pods.push(`pod-${node}`);
    }
  });

  afterAll(async () => {
    await store?.close();
    await Cluster.down(name); // stops the agents, and with them BIRD and margay-confd
    if (runDir) removeTempDir(runDir);
  });

  /** Every pod pings every other; each pair waits (bounded) and fails naming itself. */
  async function expectFullReachability(): Promise<void> {
    const pairs = pods.flatMap((from) => pods.filter((to) => to !== from).map((to) => [from, to] as const));
    await Promise.all(pairs.map(([from, to]) => waitForPing(cluster, from, to, 60_000)));
  }

  /** BIRD's answer on the node's socket (birdc run inside the node). */
  async function birdc(node: string, ...command: string[]): Promise<string> {
    const result = await cluster.exec(node, ['birdc', '-s', socketOf(node), ...command]);
    if (!result.stdout.includes(' ready.'))
      throw new Error(`birdc ${command.join(' ')} on ${node}: ${result.stderr}`);
    return result.stdout;
  }

  /** The pid of the BIRD that runs the node's configuration, found by its command line. */
  function birdPid(node: string): number {
    const wanted = ['bird', '-f', '-c', join(birdDir(node), 'bird.cfg')].join('\0');
    const pids = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith(wanted);
        } catch {
          return false;
        }
      });
    if (pids.length !== 1) throw new Error(`expected one BIRD for ${node}, found pids [${pids.join(', ')}]`);
    return Number(pids[0]);
  }

  async function nodeStatus(node: string, ...args: string[]): Promise<string> {
    const result = await cluster.exec(node, [MARGAYCTL, 'node', 'status', ...args]);
    if (result.code !== 0) throw new Error(`margayctl node status on ${node}: ${result.stderr}`);
    return result.stdout;
  }
  const birdNodeStatus = (node: string) =>
    nodeStatus(node, '--bird-socket', socketOf(node), '--node-name', node);
  const rowOf = (status: string, address: string) =>
    status.split('\n').find((line) => line.startsWith(`${address} `));

  /** Reads the node's Node resource, changes it and writes it back. */
  async function updateNode(node: string, change: (resource: Node) => void): Promise<void> {
    const kv = await store!.get(resourceKey('Node', node));
    if (!kv) throw new Error(`Node ${node} is not in etcd`);
    const resource = decodeResource(kv.value) as Node;
    change(resource);
    await write(validateResource(JSON.parse(encodeResource(resource)), 'test'));
  }

  test('full mesh: every pod reaches every other; node status shows BIRD’s peers and confd ok', async () => {
    await expectFullReachability();
    const status = await birdNodeStatus('node-1');
    expect(status).toContain('margay-node is running with BIRD as its BGP daemon.');
    expect(status).toMatch(/^margay-confd: ok; BIRD runs /m);
    for (const other of ['node-2', ...BGPD_NODES]) {
      expect(rowOf(status, addressOf(other))).toMatch(/node-to-node mesh\s+up\s+\S+\s+Established/);
    }
    // A margay-bgpd node sees the BIRD nodes as established mesh peers over its own API.
    const bgpd = await nodeStatus('node-3');
    for (const node of BIRD_NODES) expect(rowOf(bgpd, addressOf(node))).toMatch(/node-to-node mesh\s+up\s/);
  });

  test('a 5th node and a BGPPeer reach the running BIRDs by reconfiguration, not restarts', async () => {
    const pids = BIRD_NODES.map(birdPid);
    await cluster.startAgent(LATE_NODE);
    await cluster.addPod(LATE_NODE, `pod-${LATE_NODE}`);
    pods.push(`pod-${LATE_NODE}`);
    for (const node of BIRD_NODES) {
      // Until BIRD has a mesh session to the new node, up.
      await waitFor(`${node}'s BIRD to peer with ${LATE_NODE}`, async () =>
        /\sup\s/.test(
          (await birdc(node, 'show', 'protocols'))
            .split('\n')
            .find((line) => line.startsWith(protocolName('Mesh', addressOf(LATE_NODE)))) ?? '',
        ),
      );
    }
    await expectFullReachability();

    await write(resource('BGPPeer', 'tor', { peerIP: '198.18.0.1', asNumber: 65009 }));
    for (const node of BIRD_NODES) {
      // Until BIRD lists the global peer.
      await waitFor(`${node}'s BIRD to list the global peer`, async () =>
        (await birdc(node, 'show', 'protocols')).includes(protocolName('Global', '198.18.0.1')),
      );
    }
    expect(BIRD_NODES.map(birdPid)).toEqual(pids);
  });

  test('a value BIRD refuses leaves BIRD on its previous configuration; node status shows why', async () => {
    const pid = birdPid('node-1');
    // Valid for the API, refused by BIRD: a keepalive longer than the hold time.
    await write(
      resource('BGPPeer', 'slow', {
        node: 'node-1',
        peerIP: '198.18.0.2',
        asNumber: 65010,
        keepaliveTime: '1h',
      }),
    );
    // Until margay-confd has reported the refusal.
    await waitFor('the refusal in node status', async () =>
      /ERROR at check/.test(await birdNodeStatus('node-1')),
    );
    const status = await birdNodeStatus('node-1');
    expect(status).toContain('Keepalive time must be at most hold time');
    expect(status).toMatch(/the last change in etcd is not in BIRD; BIRD runs \S+bird\.cfg/);
    const protocols = await birdc('node-1', 'show', 'protocols');
    expect(protocols).toContain(protocolName('Global', '198.18.0.1'));
    expect(protocols).not.toContain(protocolName('Node', '198.18.0.2'));
    expect(birdPid('node-1')).toBe(pid);
    await waitForPing(cluster, 'pod-node-1', 'pod-node-3');

    await remove('BGPPeer', 'slow');
    await remove('BGPPeer', 'tor');
    // Until margay-confd applies again.
    await waitFor('confd ok again', async () => /^margay-confd: ok;/m.test(await birdNodeStatus('node-1')));
    expect(await birdc('node-1', 'show', 'protocols')).not.toContain(protocolName('Global', '198.18.0.1'));
  });

  test('a BIRD route reflector for margay-bgpd (and BIRD) clients, mesh off: full reachability', async () => {
    await updateNode('node-1', (node) => {
      node.metadata.labels = { ...node.metadata.labels, 'bird-rr': 'true' };
      node.spec.bgp = { ...node.spec.bgp, routeReflectorClusterID: '244.0.0.1' };
    });
    await write(
      resource('BGPPeer', 'to-bird-rr', { nodeSelector: 'all()', peerSelector: "bird-rr == 'true'" }),
    );
    await write(resource('BGPConfiguration', 'default', { asNumber: 64512, nodeToNodeMeshEnabled: false }));

    const clients = ['node-2', ...BGPD_NODES, LATE_NODE];
    // Until the reflector's BIRD has no mesh sessions left and every client's is up.
    await waitFor('node-1 to reflect for every client', async () => {
      const shown = await birdc('node-1', 'show', 'protocols');
      return (
        !shown.includes('Mesh_') &&
        clients.every((node) =>
          /\sup\s/.test(
            shown.split('\n').find((l) => l.startsWith(protocolName('Node', addressOf(node)))) ?? '',
          ),
        )
      );
    });
    await expectFullReachability();
    const status = await birdNodeStatus('node-1');
    for (const node of clients) {
      expect(rowOf(status, addressOf(node))).toMatch(/node specific \(route reflector client\)\s+up\s/);
    }
    // A margay-bgpd client peers with the reflector only.
    const client = await nodeStatus('node-3');
    expect(rowOf(client, addressOf('node-1'))).toMatch(/node specific \(route reflector\)\s+up\s/);
    for (const other of clients) expect(rowOf(client, addressOf(other))).toBeUndefined();
  });

  test('a margay-bgpd route reflector for BIRD (and margay-bgpd) clients: full reachability', async () => {
    await remove('BGPPeer', 'to-bird-rr');
    await updateNode('node-1', (node) => {
      const { 'bird-rr': _, ...labels } = node.metadata.labels ?? {};
      node.metadata.labels = labels;
      const { routeReflectorClusterID: __, ...bgp } = node.spec.bgp ?? {};
      node.spec.bgp = bgp;
    });
    // node-5 becomes the reflector: restarted with a cluster id, labelled for the BGPPeer.
    await cluster.stopAgent(LATE_NODE);
    await updateNode(LATE_NODE, (node) => {
      node.metadata.labels = { ...node.metadata.labels, 'bgpd-rr': 'true' };
    });
    await cluster.startAgent(LATE_NODE, { args: ['--route-reflector-cluster-id', '244.0.0.2'] });
    await write(
      resource('BGPPeer', 'to-bgpd-rr', { nodeSelector: 'all()', peerSelector: "bgpd-rr == 'true'" }),
    );

    for (const node of BIRD_NODES) {
      // Until the client's BIRD peers with the reflector only, and that session is up.
      await waitFor(`${node}'s BIRD to peer with the reflector only`, async () => {
        const rows = (await birdc(node, 'show', 'protocols')).split('\n').filter((l) => /\sBGP\s/.test(l));
        return (
          rows.length === 1 &&
          rows[0]!.startsWith(protocolName('Node', addressOf(LATE_NODE))) &&
          /\sup\s/.test(rows[0]!)
        );
      });
    }
    await expectFullReachability();
    const reflector = await nodeStatus(LATE_NODE);
    for (const node of [...BIRD_NODES, ...BGPD_NODES]) {
      expect(rowOf(reflector, addressOf(node))).toMatch(/node specific \(route reflector client\)\s+up\s/);
    }
    const client = await birdNodeStatus('node-2');
    expect(rowOf(client, addressOf(LATE_NODE))).toMatch(/node specific \(route reflector\)\s+up\s/);
  });

  test('margay-node stopping stops BIRD with a graceful restart: its kernel routes stay; a new start takes over', async () => {
    const pid = birdPid('node-2');
    const birdRoutes = () => routesOf(cluster, 'node-2', BIRD_PROTO);
    const before = birdRoutes();
    expect(before.length).toBeGreaterThan(0);
    await cluster.stopAgent('node-2');
    expect(() => birdPid('node-2')).toThrow(/found pids \[\]/);
    expect(birdRoutes()).toEqual(before);
    // The reflector keeps node-2's routes as stale (graceful restart), so traffic flows both ways.
    await waitForPing(cluster, 'pod-node-2', 'pod-node-4');

    await startBirdNode('node-2');
    expect(birdPid('node-2')).not.toBe(pid);
    await expectFullReachability();
  });
});
