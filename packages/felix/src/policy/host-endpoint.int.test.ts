// Host endpoint policy on a real kernel, fed by a real etcd: a network namespace is the host, with
// a HostEndpoint on its veth to a "client" namespace and TCP servers on 22 (a failsafe port) and
// 8080. A GlobalNetworkPolicy denying all ingress to the host endpoint cuts 8080 but never 22;
// removing it opens 8080 again (the profile allows); a FelixConfiguration narrowing the failsafe
// ports closes 22. Every verdict is a real TCP connection.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { NetworkNamespace } from '@margay/dataplane';
import { EtcdDatastore } from '@margay/datastore';
import { EtcdServer, requireCommand, requireRoot, waitFor } from '@margay/testkit';
import { Felix } from '../felix';
import {
  eventually as awaitVerdict,
  runIn as run,
  TCP_PROBE,
  TestNamespaces,
  tcpServerScript,
} from './kernel.fixture';
import { resource, type StoredDocument } from './testing';

const NODE = 'node-h';
const subnet = `198.18.${randomBytes(1).readUInt8()}`;
const hostIp = `${subnet}.1`;
const clientIp = `${subnet}.2`;
/** Not the workload prefix `mg`: a host interface. */
const hostIf = `he${randomBytes(3).toString('hex')}`;
const PORTS = [22, 8080];

const SERVER = tcpServerScript(PORTS, '0.0.0.0');

let etcd: EtcdServer | undefined;
let store: EtcdDatastore | undefined;
let felix: Felix | undefined;
let server: ChildProcess | undefined;
const namespaces = new TestNamespaces();
let host: NetworkNamespace;
let client: NetworkNamespace;
const warnings: string[] = [];

/** True if a TCP connection from `from` to `address:port` gets the server's greeting. */
async function connects(from: NetworkNamespace, address: string, port: number): Promise<boolean> {
  return (await from.runner.run([process.execPath, '-e', TCP_PROBE, address, String(port)])).code === 0;
}

/** Waits for a verdict; a failure shows what felix warned about and the host's rules. */
const eventually = (what: string, condition: () => Promise<boolean>) =>
  awaitVerdict(what, condition, { ns: host, saveArgs: ['-t', 'filter'], warnings });

async function put(doc: StoredDocument): Promise<void> {
  await store?.put(doc.key, doc.value);
}

async function remove(doc: StoredDocument): Promise<void> {
  await store?.delete(doc.key);
}

const hostProfile = resource('Profile', 'host-allow-all', {
  ingress: [{ action: 'Allow' }],
  egress: [{ action: 'Allow' }],
});
const hostEndpoint = resource('HostEndpoint', `${NODE}-${hostIf}`, {
  node: NODE,
  interfaceName: hostIf,
  expectedIPs: [hostIp],
  profiles: ['host-allow-all'],
});
const denyIngress = resource('GlobalNetworkPolicy', 'deny-host-ingress', {
  selector: 'has(host-endpoint)',
  types: ['Ingress'],
  ingress: [{ action: 'Deny' }],
});
const narrowFailsafe = resource('FelixConfiguration', 'default', {
  failsafeInboundHostPorts: [{ protocol: 'TCP', port: 179 }],
});

/** The host endpoint with a label the policy selects (resource() takes no labels). */
function labelled(doc: StoredDocument): StoredDocument {
  const value = JSON.parse(doc.value) as { metadata: Record<string, unknown> };
  value.metadata.labels = { 'host-endpoint': 'true' };
  return { key: doc.key, value: JSON.stringify(value) };
}

beforeAll(async () => {
  requireRoot('host endpoint policy integration test');
  requireCommand('ip', 'iproute2');
  requireCommand('iptables-restore', 'iptables');
  requireCommand('ipset', 'ipset');
  requireCommand('etcd', 'etcd-server');
  etcd = await EtcdServer.start();
  store = new EtcdDatastore({ endpoints: etcd.endpoints });
  host = await namespaces.create('mg-hhost');
  client = await namespaces.create('mg-hclient');
  await host.ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', client.name);
  await host.ip('addr', 'add', `${hostIp}/24`, 'dev', hostIf);
  await host.ip('link', 'set', hostIf, 'up');
  await client.ip('addr', 'add', `${clientIp}/24`, 'dev', 'eth0');
  await client.ip('link', 'set', 'eth0', 'up');

  const started = spawn('ip', ['netns', 'exec', host.name, process.execPath, '-e', SERVER], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = started;
  let output = '';
  started.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  await waitFor('the servers on the host', () => output.includes('ready'), 10_000);
}, 60_000);

afterAll(async () => {
  await felix?.stop();
  await store?.close();
  if (server?.pid !== undefined) process.kill(server.pid, 'SIGKILL');
  // iptables rules and ipsets live in the host's namespace and go with it.
  await namespaces.deleteAll();
  await etcd?.stop();
});

describe('host endpoint policy on a real kernel', () => {
  test('failsafe ports survive a deny-all policy; removing it opens the port; narrowing the failsafe list closes 22', async () => {
    await put(hostProfile);
    await put(labelled(hostEndpoint));
    felix = new Felix({
      datastore: store as EtcdDatastore,
      nodeName: NODE,
      runner: host.runner,
      routeDebounceMs: 0,
      interfacePollIntervalMs: 200,
      policy: {},
      log: { info: () => {}, warn: (message) => warnings.push(message) },
    });
    await felix.start();

    // The host endpoint's profile allows everything.
    await eventually('the host endpoint chains', async () =>
      (await run(host, ['iptables-save', '-t', 'filter'])).includes(`-A mg-from-host-endpoint -i ${hostIf}`),
    );
    expect(await connects(client, hostIp, 8080)).toBe(true);
    expect(await connects(client, hostIp, 22)).toBe(true);

    // Deny all ingress: 8080 is cut off, SSH (failsafe) is not, and loopback (no host endpoint) is untouched.
    await put(denyIngress);
    await eventually('8080 to be cut off', async () => !(await connects(client, hostIp, 8080)));
    expect(await connects(client, hostIp, 22)).toBe(true);
    expect(await connects(host, '127.0.0.1', 8080)).toBe(true);

    // Without the policy the profile decides again.
    await remove(denyIngress);
    await eventually('8080 to open again', () => connects(client, hostIp, 8080));

    // With the policy back and only BGP failsafe, SSH is cut off too.
    await put(denyIngress);
    await eventually('8080 to be cut off again', async () => !(await connects(client, hostIp, 8080)));
    expect(await connects(client, hostIp, 22)).toBe(true);
    await put(narrowFailsafe);
    await eventually('22 to be cut off', async () => !(await connects(client, hostIp, 22)));
    expect(await connects(client, hostIp, 8080)).toBe(false);

    expect(felix.policyStats()).toMatchObject({ localHostEndpoints: 1, activePolicies: 1, failures: 0 });
    expect(warnings).toEqual([]);
  }, 120_000);
});
