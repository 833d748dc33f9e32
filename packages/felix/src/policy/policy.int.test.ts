// Felix enforcing policy on a real kernel, fed by a real etcd: a network namespace is the node
// (FORWARD policy DROP, as Docker leaves it), two more are pods wired to it by veths the way the
// CNI plugin does (a /32 on eth0, a default route via 169.254.1.1). Every verdict is a real ping.

import { randomBytes } from 'node:crypto';
import type { NetworkNamespace } from '@margay/dataplane';
import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer, requireCommand, requireRoot } from '@margay/testkit';
import { Felix } from '../felix';
import { eventually as awaitVerdict, runIn as run, TestNamespaces } from './kernel.fixture';
import { ipSetSpecFor } from './render';
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
async function wirePod(pod: NetworkNamespace, hostIf: string, ip: string): Promise<void> {
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

const pod = (name: string, hostIf: string, ip: string, app: string) =>
  workload({ name, namespace: 'shop', node: NODE, interfaceName: hostIf, ip, labels: { app } });

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
});
