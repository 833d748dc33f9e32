// The manifests in deploy/ checked offline: parsed as Kubernetes parses them, every object's kind
// known, references resolved, and margay-node's flags, environment and ports checked by
// margay-node's own parser. `kubectl kustomize` builds deploy/base (no API server needed).
// `kubectl create --dry-run=client` is not run: even with --validate=false it asks an API server
// for discovery, and there is none here.

import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { etcdConfigFromEnv } from '@margay/datastore';
import { nodeEnvironment, parseNodeFlags } from '@margay/node';
import { makeTempDir, removeTempDir, requireCommand } from '@margay/testkit';
import { loadManifests, manifestFiles, parseManifest, REPO_ROOT } from './deploy/load';
import {
  type Contracts,
  checkManifests,
  type ManifestDocument,
  type NodeAgentContract,
} from './deploy/manifests';

const BASE = join(REPO_ROOT, 'deploy', 'base');
const INSTALL_CNI = join(REPO_ROOT, 'deploy', 'image', 'install-cni.sh');

/** The environment variables `read` looks at, seen through a proxy. */
function namesRead(read: (env: NodeJS.ProcessEnv) => unknown): Set<string> {
  const names = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get(target, key) {
      if (typeof key === 'string') names.add(key);
      return Reflect.get(target, key);
    },
  });
  read(env);
  return names;
}

const etcdEnv = namesRead(etcdConfigFromEnv);

const nodeAgent: NodeAgentContract = {
  envNames: new Set([...namesRead(nodeEnvironment), ...etcdEnv]),
  parse(args, env) {
    const flags = parseNodeFlags(args, env);
    if (flags === 'help') throw new Error('the args ask for --help');
    etcdConfigFromEnv(env);
    return flags.settings;
  },
};

/** `${NAME}` and `${NAME:-default}` references of a shell script: the variables it reads. */
function shellVariables(file: string): Set<string> {
  return new Set(
    [...readFileSync(file, 'utf8').matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((match) => match[1]!),
  );
}

const contracts: Contracts = {
  node: nodeAgent,
  programEnv: {
    'margay-install-cni': shellVariables(INSTALL_CNI),
    // margay-kube-controllers reaches etcd like every margay program: ETCD_* through etcdConfigFromEnv.
    'margay-kube-controllers': etcdEnv,
  },
};

// Parsed manifests are walked by known paths; a wrong path fails the test, which is what we want.
// biome-ignore lint/suspicious/noExplicitAny: see above
type Json = Record<string, any>;

function base(): ManifestDocument[] {
  return loadManifests(BASE, 'deploy/base');
}

function find(documents: readonly ManifestDocument[], kind: string, name: string): Json {
  const found = documents.find((d) => {
    const object = d.object as Json;
    return object['kind'] === kind && object['metadata']?.['name'] === name;
  });
  if (!found) throw new Error(`deploy/base has no ${kind} ${name}`);
  return found.object as Json;
}

function container(workload: Json, name: string): Json {
  const found = (workload['spec']['template']['spec']['containers'] as Json[]).find(
    (c) => c['name'] === name,
  );
  if (!found) throw new Error(`no container ${name}`);
  return found;
}

function kubectl(args: string[], input?: string) {
  return spawnSync('kubectl', args, { encoding: 'utf8', input, timeout: 60_000 });
}

describe('deploy/base', () => {
  it('passes every offline check', () => {
    const documents = base();
    expect(documents.length).toBeGreaterThanOrEqual(9);
    expect(checkManifests(documents, contracts)).toEqual([]);
  });

  it('lists every manifest file in its kustomization, and only those', () => {
    const kustomization = parseManifest(
      readFileSync(join(BASE, 'kustomization.yaml'), 'utf8'),
      'kustomization',
    )[0]!.object as Json;
    expect([...(kustomization['resources'] as string[])].sort()).toEqual(manifestFiles(BASE));
  });

  it('runs margay-node on every node as the issue asks: host network, privileged, one node at a time', () => {
    const documents = base();
    const daemonSet = find(documents, 'DaemonSet', 'margay-node');
    const pod = daemonSet['spec']['template']['spec'];
    expect(pod['hostNetwork']).toBe(true);
    expect(container(daemonSet, 'margay-node')['securityContext']['privileged']).toBe(true);
    expect(daemonSet['spec']['updateStrategy']).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1 },
    });
    expect(pod['terminationGracePeriodSeconds']).toBeGreaterThanOrEqual(30);
    // The CNI installer writes to the host's CNI directories.
    const install = (pod['initContainers'] as Json[])[0]!;
    expect(install['command']).toEqual(['margay-install-cni']);
    const hostPaths = Object.fromEntries(
      (pod['volumes'] as Json[]).filter((v) => v['hostPath']).map((v) => [v['name'], v['hostPath']['path']]),
    );
    const mounts = Object.fromEntries(
      (install['volumeMounts'] as Json[]).map((m) => [m['mountPath'], hostPaths[m['name']]]),
    );
    expect(mounts).toMatchObject({
      '/host/opt/cni/bin': '/opt/cni/bin',
      '/host/etc/cni/net.d': '/etc/cni/net.d',
    });
  });

  it('runs two route reflectors on different hosts, and one kube-controllers', () => {
    const documents = base();
    const reflectors = find(documents, 'Deployment', 'margay-route-reflector');
    expect(reflectors['spec']['replicas']).toBe(2);
    const pod = reflectors['spec']['template']['spec'];
    expect(pod['hostNetwork']).toBe(true);
    const antiAffinity = pod['affinity']['podAntiAffinity']['requiredDuringSchedulingIgnoredDuringExecution'];
    expect(antiAffinity).toEqual([
      expect.objectContaining({
        topologyKey: 'kubernetes.io/hostname',
        labelSelector: { matchLabels: reflectors['spec']['selector']['matchLabels'] },
      }),
    ]);
    const args = container(reflectors, 'margay-node')['args'] as string[];
    expect(args.slice(args.indexOf('--mode'), args.indexOf('--mode') + 2)).toEqual([
      '--mode',
      'route-reflector',
    ]);
    expect(find(documents, 'Deployment', 'margay-kube-controllers')['spec']['replicas']).toBe(1);
  });

  it('lets margay-kube-controllers read exactly what it syncs', () => {
    const role = find(base(), 'ClusterRole', 'margay-kube-controllers');
    const granted = (role['rules'] as Json[]).flatMap((rule) =>
      (rule['resources'] as string[]).map((resource) => ({
        resource: `${rule['apiGroups'][0]}/${resource}`,
        verbs: [...rule['verbs']].sort(),
      })),
    );
    expect(granted.sort((a, b) => a.resource.localeCompare(b.resource))).toEqual(
      ['/namespaces', '/nodes', '/pods', 'networking.k8s.io/networkpolicies'].map((resource) => ({
        resource,
        verbs: ['get', 'list', 'watch'],
      })),
    );
  });
});

describe('the offline checks', () => {
  const daemonSet = (documents: ManifestDocument[]) => find(documents, 'DaemonSet', 'margay-node');
  const node = (documents: ManifestDocument[]) => container(daemonSet(documents), 'margay-node');
  const env = (documents: ManifestDocument[], name: string) =>
    (node(documents)['env'] as Json[]).find((e) => e['name'] === name)!;
  const cases: [string, (documents: ManifestDocument[]) => void, string][] = [
    [
      'an unknown kind',
      (d) => {
        daemonSet(d)['kind'] = 'DaemonSett';
      },
      'unknown kind apps/v1 DaemonSett',
    ],
    [
      'a container without image',
      (d) => {
        delete node(d)['image'];
      },
      'container margay-node: image: required',
    ],
    [
      'a probe on another port than --health-port',
      (d) => {
        node(d)['readinessProbe']['httpGet']['port'] = 9098;
      },
      'readinessProbe.httpGet.port 9098 is not --health-port 9099',
    ],
    [
      'a probe on the pod address (margay-node listens on loopback)',
      (d) => {
        delete node(d)['livenessProbe']['httpGet']['host'];
      },
      'livenessProbe.httpGet.host must be 127.0.0.1',
    ],
    [
      'an environment variable margay-node does not read',
      (d) => {
        env(d, 'ETCD_ENDPOINTS')['name'] = 'ETCD_ENDPOINT';
      },
      'env ETCD_ENDPOINT: margay-node does not read it',
    ],
    [
      'a flag value margay-node refuses',
      (d) => {
        node(d)['args'][1] = 'fast';
      },
      'margay-node refuses its args and env: --mode "fast" is not one of full, route-reflector',
    ],
    [
      'an unknown flag',
      (d) => {
        node(d)['args'].push('--metric-port', '1');
      },
      "margay-node refuses its args and env: Unknown option '--metric-port'",
    ],
    [
      'a ConfigMap key that does not exist',
      (d) => {
        env(d, 'IP_AUTODETECTION_METHOD')['valueFrom']['configMapKeyRef']['key'] = 'ip_method';
      },
      'env IP_AUTODETECTION_METHOD: no key ip_method in ConfigMap margay-config',
    ],
    [
      'an autodetection method margay-node cannot parse',
      (d) => {
        find(d, 'ConfigMap', 'margay-config')['data']['ip_autodetection_method'] = 'first-fund';
      },
      'margay-node refuses its args and env',
    ],
    [
      'a TLS file outside the mounted Secret',
      (d) => {
        env(d, 'ETCD_KEY_FILE')['value'] = '/etc/margay/tls/tls.key';
      },
      'ETCD_KEY_FILE /etc/margay/tls/tls.key: no Secret volume is mounted at /etc/margay/tls',
    ],
    [
      'a TLS file the Secret lacks',
      (d) => {
        delete find(d, 'Secret', 'margay-etcd')['stringData']['tls.key'];
      },
      'ETCD_KEY_FILE /etc/margay/etcd-tls/tls.key: Secret margay-etcd has no key tls.key',
    ],
    [
      'a scrape annotation on another port than --metrics-port',
      (d) => {
        daemonSet(d)['spec']['template']['metadata']['annotations']['prometheus.io/port'] = '9092';
      },
      'annotation prometheus.io/port 9092 is not --metrics-port 9091',
    ],
    [
      'a selector that misses its pod template',
      (d) => {
        daemonSet(d)['spec']['selector']['matchLabels']['app.kubernetes.io/name'] = 'node';
      },
      "not on the pod template's labels",
    ],
    [
      'a variable the CNI installer does not read',
      (d) => {
        daemonSet(d)['spec']['template']['spec']['initContainers'][0]['env'].push({
          name: 'CNI_CONF',
          value: 'x',
        });
      },
      'env CNI_CONF: margay-install-cni does not read it',
    ],
    [
      'a mount of a volume the pod lacks',
      (d) => {
        node(d)['volumeMounts'].push({ name: 'var-run', mountPath: '/var/run' });
      },
      'volumeMounts: no volume "var-run" in the pod',
    ],
    [
      'a binding to a missing ServiceAccount',
      (d) => {
        find(d, 'ClusterRoleBinding', 'margay-kube-controllers')['subjects'][0]['name'] = 'margay';
      },
      'subjects: no ServiceAccount kube-system/margay',
    ],
    [
      'an object defined twice',
      (d) => {
        d.push({ ...d[0]!, document: 99 });
      },
      'is defined twice',
    ],
  ];

  it.each(cases)('reject %s, naming the file', (_what, breakIt, message) => {
    const documents = base();
    breakIt(documents);
    const problems = checkManifests(documents, contracts);
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    expect(problems.every((problem) => problem.startsWith('deploy/base/'))).toBe(true);
  });

  it('reject a YAML syntax error with file and line', () => {
    expect(() => parseManifest('kind: ConfigMap\nmetadata:\n  name: [x\n', 'deploy/broken.yaml')).toThrow(
      /^deploy\/broken\.yaml: YAML syntax error at line \d+/,
    );
  });
});

describe('kubectl kustomize', () => {
  let dir = '';
  beforeAll(() => requireCommand('kubectl', 'kubectl (or kubernetes-client)'));
  afterAll(() => dir && removeTempDir(dir));

  it('builds deploy/base into the same objects, which pass the checks', () => {
    const built = kubectl(['kustomize', BASE]);
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    const documents = parseManifest(built.stdout, 'kustomize');
    const ids = (list: ManifestDocument[]) =>
      list.map(({ object }) => `${(object as Json)['kind']}/${(object as Json)['metadata']['name']}`).sort();
    expect(ids(documents)).toEqual(ids(base()));
    expect(checkManifests(documents, contracts)).toEqual([]);
  });

  it('refuses a kustomization naming a file that is not there', () => {
    dir = makeTempDir('deploy');
    cpSync(BASE, join(dir, 'base'), { recursive: true });
    const kustomization = join(dir, 'base', 'kustomization.yaml');
    writeFileSync(kustomization, `${readFileSync(kustomization, 'utf8')}  - missing.yaml\n`);
    const built = kubectl(['kustomize', join(dir, 'base')]);
    expect(built.status).not.toBe(0);
    expect(built.stderr).toContain('missing.yaml');
  });
});

describe('margay-install-cni', () => {
  let dir = '';
  beforeEach(() => {
    dir = makeTempDir('install-cni');
  });
  afterEach(() => removeTempDir(dir));

  const template = () => find(base(), 'ConfigMap', 'margay-config')['data']['cni_network_config'] as string;

  /** Runs the installer against temp directories standing in for the host and the image. */
  function install(withTls: boolean) {
    const app = join(dir, 'app', 'packages', 'cni', 'dist');
    mkdirSync(join(app, 'bundle'), { recursive: true });
    mkdirSync(join(app, 'proto'));
    writeFileSync(join(app, 'bundle', 'margay-cni.js'), '// plugin\n');
    const fakeBin = join(dir, 'fake-bin');
    mkdirSync(fakeBin);
    writeFileSync(join(fakeBin, 'node'), '#!/bin/sh\necho node "$@"\n');
    chmodSync(join(fakeBin, 'node'), 0o755);
    const tls = join(dir, 'tls');
    mkdirSync(tls);
    if (withTls) for (const file of ['ca.crt', 'tls.crt', 'tls.key']) writeFileSync(join(tls, file), 'pem\n');
    for (const host of ['bin', 'net']) mkdirSync(join(dir, host));
    return spawnSync('sh', [INSTALL_CNI], {
      encoding: 'utf8',
      env: {
        PATH: `${fakeBin}:${process.env['PATH']}`,
        NODENAME: 'node-7',
        ETCD_ENDPOINTS: 'https://10.0.0.10:2379',
        CNI_NETWORK_CONFIG: template(),
        HOST_CNI_BIN_DIR: join(dir, 'bin'),
        HOST_CNI_NET_DIR: join(dir, 'net'),
        ETCD_TLS_SOURCE: tls,
        MARGAY_APP_DIR: join(dir, 'app'),
      },
    });
  }

  it('installs the plugin, its TLS files and a filled-in conflist', () => {
    const run = install(true);
    expect(run.stderr).toContain('wrote');
    expect(run.status).toBe(0);
    const conflist = JSON.parse(readFileSync(join(dir, 'net', '10-margay.conflist'), 'utf8'));
    expect(conflist.plugins[0]).toMatchObject({
      type: 'margay',
      nodename: 'node-7',
      etcd_endpoints: 'https://10.0.0.10:2379',
      etcd_key_file: '/etc/cni/net.d/margay-tls/tls.key',
      ipam: { type: 'margay-ipam' },
    });
    expect(readFileSync(join(dir, 'net', 'margay-tls', 'tls.key'), 'utf8')).toBe('pem\n');
    expect(statSync(join(dir, 'net', 'margay-tls', 'tls.key')).mode & 0o777).toBe(0o600);
    const shim = spawnSync(join(dir, 'bin', 'margay'), ['VERSION'], { encoding: 'utf8' });
    expect(shim.stdout.trim()).toBe(
      `node ${join(dir, 'bin', 'margay.d', 'bundle', 'margay-cni.js')} VERSION`,
    );
  });

  it('leaves the TLS fields out for an etcd without TLS', () => {
    expect(install(false).status).toBe(0);
    const conflist = JSON.parse(readFileSync(join(dir, 'net', '10-margay.conflist'), 'utf8'));
    expect(Object.keys(conflist.plugins[0]).filter((key) => key.startsWith('etcd_'))).toEqual([
      'etcd_endpoints',
    ]);
    expect(existsSync(join(dir, 'net', 'margay-tls', 'ca.crt'))).toBe(false);
  });

  it('refuses to run without the node name, writing nothing', () => {
    const run = spawnSync('sh', [INSTALL_CNI], {
      encoding: 'utf8',
      env: {
        PATH: process.env['PATH'],
        ETCD_ENDPOINTS: 'x',
        CNI_NETWORK_CONFIG: '{}',
        HOST_CNI_NET_DIR: dir,
      },
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('NODENAME must be set');
    expect(existsSync(join(dir, '10-margay.conflist'))).toBe(false);
  });
});
