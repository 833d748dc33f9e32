// Offline checks of the Kubernetes manifests in deploy/: what an API server would refuse (unknown
// kinds, missing names and images, selectors that miss their template), references that only
// fail once pods start (ConfigMap keys, Secrets, ServiceAccounts, volumes), and agreement with
// the programs the containers run (flags, environment names, probe and metrics ports).

/** One parsed YAML document of a manifest file. */
export interface ManifestDocument {
  readonly source: string;
  /** 1-based position of the document in its file. */
  readonly document: number;
  readonly object: unknown;
}

/** What margay-node accepts, from its own code: the test passes in its real flag parser. */
export interface NodeAgentContract {
  /** The environment variables margay-node reads. */
  readonly envNames: ReadonlySet<string>;
  /** Parses flags and environment as margay-node does; throws naming what is wrong. */
  parse(args: readonly string[], env: Readonly<Record<string, string>>): NodeAgentSettings;
}

export interface NodeAgentSettings {
  readonly mode: string;
  readonly healthPort: number;
  readonly metricsPort: number;
}

export interface Contracts {
  readonly node: NodeAgentContract;
  /** Environment variables each other program reads, by the command a container runs. */
  readonly programEnv: Readonly<Record<string, ReadonlySet<string>>>;
}

/** apiVersion → kinds this repository may ship; anything else is a typo or needs adding here. */
export const KNOWN_KINDS: Readonly<Record<string, readonly string[]>> = {
  v1: ['ConfigMap', 'Secret', 'ServiceAccount', 'Service', 'Namespace', 'Pod'],
  'apps/v1': ['DaemonSet', 'Deployment', 'StatefulSet'],
  'rbac.authorization.k8s.io/v1': ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'],
  'policy/v1': ['PodDisruptionBudget'],
  'scheduling.k8s.io/v1': ['PriorityClass'],
  'networking.k8s.io/v1': ['NetworkPolicy'],
};

const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding', 'Namespace', 'PriorityClass']);
const WORKLOADS = new Set(['DaemonSet', 'Deployment', 'StatefulSet']);
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** What the downward API gives a fieldRef, for running the programs' parsers on the manifest's env. */
const FIELD_REF_SAMPLES: Readonly<Record<string, string>> = {
  'spec.nodeName': 'node-1',
  'metadata.name': 'pod-1',
  'metadata.namespace': 'kube-system',
  'status.hostIP': '10.0.0.5',
  'status.podIP': '10.0.0.5',
};

type Json = Record<string, unknown>;

interface Indexed {
  readonly doc: ManifestDocument;
  readonly object: Json;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string | undefined;
}

/** Every problem found, each naming file, document, object and field; empty when all is well. */
export function checkManifests(documents: readonly ManifestDocument[], contracts: Contracts): string[] {
  const problems: string[] = [];
  const objects: Indexed[] = [];
  const seen = new Set<string>();
  for (const doc of documents) {
    const where = `${doc.source} document ${doc.document}`;
    if (doc.object === null || doc.object === undefined) continue;
    const object = doc.object;
    if (!isRecord(object)) {
      problems.push(`${where}: expected a mapping with apiVersion, kind and metadata`);
      continue;
    }
    const indexed = checkEnvelope(doc, object, problems);
    if (!indexed) continue;
    const id = `${indexed.kind} ${indexed.namespace ?? ''}/${indexed.name}`;
    if (seen.has(id)) problems.push(`${where}: ${id} is defined twice`);
    seen.add(id);
    objects.push(indexed);
  }
  for (const indexed of objects) {
    if (WORKLOADS.has(indexed.kind)) checkWorkload(indexed, objects, contracts, problems);
    if (indexed.kind === 'ClusterRoleBinding' || indexed.kind === 'RoleBinding') {
      checkBinding(indexed, objects, problems);
    }
  }
  return problems;
}

function checkEnvelope(doc: ManifestDocument, object: Json, problems: string[]): Indexed | undefined {
  const where = `${doc.source} document ${doc.document}`;
  const { apiVersion, kind, metadata } = object;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    problems.push(`${where}: apiVersion and kind must be strings`);
    return undefined;
  }
  const kinds = KNOWN_KINDS[apiVersion];
  if (!kinds?.includes(kind)) {
    const known = Object.entries(KNOWN_KINDS).map(([version, names]) => `${version}: ${names.join(', ')}`);
    problems.push(`${where}: unknown kind ${apiVersion} ${kind} (known: ${known.join('; ')})`);
    return undefined;
  }
  const name = isRecord(metadata) ? metadata['name'] : undefined;
  if (typeof name !== 'string' || !DNS_SUBDOMAIN.test(name) || name.length > 253) {
    problems.push(`${where}: ${kind} metadata.name must be a DNS subdomain (got ${JSON.stringify(name)})`);
    return undefined;
  }
  const namespace = isRecord(metadata) ? metadata['namespace'] : undefined;
  if (CLUSTER_SCOPED.has(kind) && namespace !== undefined) {
    problems.push(`${where}: ${kind} ${name} is cluster-scoped and takes no metadata.namespace`);
  }
  if (!CLUSTER_SCOPED.has(kind) && typeof namespace !== 'string') {
    problems.push(`${where}: ${kind} ${name} needs metadata.namespace`);
  }
  return { doc, object, kind, name, namespace: typeof namespace === 'string' ? namespace : undefined };
}

function checkWorkload(
  workload: Indexed,
  objects: readonly Indexed[],
  contracts: Contracts,
  problems: string[],
) {
  const at = (path: string) => `${workload.doc.source}: ${workload.kind} ${workload.name} ${path}`;
  const spec = record(workload.object['spec']);
  const template = record(spec['template']);
  const templateLabels = record(record(template['metadata'])['labels']);
  const matchLabels = record(record(spec['selector'])['matchLabels']);
  if (Object.keys(matchLabels).length === 0) problems.push(at('spec.selector.matchLabels: required'));
  for (const [key, value] of Object.entries(matchLabels)) {
    if (templateLabels[key] !== value) {
      problems.push(at(`spec.selector.matchLabels ${key}=${value}: not on the pod template's labels`));
    }
  }
  const pod = record(template['spec']);
  const lookup = (kind: string, name: unknown) =>
    objects.find((o) => o.kind === kind && o.name === name && o.namespace === workload.namespace);
  const account = pod['serviceAccountName'];
  if (account !== undefined && !lookup('ServiceAccount', account)) {
    problems.push(at(`spec.template.spec.serviceAccountName: no ServiceAccount ${account}`));
  }
  const volumes = new Map<string, Json>();
  for (const [index, volume] of list(pod['volumes']).entries()) {
    const name = record(volume)['name'];
    if (typeof name !== 'string') {
      problems.push(at(`spec.template.spec.volumes[${index}].name: required`));
      continue;
    }
    volumes.set(name, record(volume));
    const secret = record(volume)['secret'];
    if (secret !== undefined && !lookup('Secret', record(secret)['secretName'])) {
      problems.push(at(`volume ${name}: no Secret ${JSON.stringify(record(secret)['secretName'])}`));
    }
  }
  const containers = [
    ...list(pod['initContainers']).map((c, i) => ({ path: `initContainers[${i}]`, container: record(c) })),
    ...list(pod['containers']).map((c, i) => ({ path: `containers[${i}]`, container: record(c) })),
  ];
  if (list(pod['containers']).length === 0) problems.push(at('spec.template.spec.containers: required'));
  for (const { path, container } of containers) {
    const name = typeof container['name'] === 'string' ? container['name'] : path;
    const cat = (field: string) => at(`container ${name}: ${field}`);
    if (typeof container['image'] !== 'string' || container['image'] === '')
      problems.push(cat('image: required'));
    for (const mount of list(container['volumeMounts'])) {
      const volume = record(mount)['name'];
      if (typeof volume !== 'string' || !volumes.has(volume)) {
        problems.push(cat(`volumeMounts: no volume ${JSON.stringify(volume)} in the pod`));
      }
    }
    const env = resolveEnv(container, lookup, cat, problems);
    const program = list(container['command'])[0];
    const args = list(container['args']).map((arg) => expand(String(arg), env));
    const expanded = new Set(list(container['args']).flatMap((arg) => referencedVariables(String(arg))));
    if (program === 'margay-node') {
      checkNodeAgent(
        { container, pod: template, env, args, expanded, volumes, lookup, cat, problems },
        contracts,
      );
    } else if (typeof program === 'string' && contracts.programEnv[program]) {
      checkEnvNames(env, contracts.programEnv[program], expanded, program, cat, problems);
    } else {
      problems.push(cat(`command ${JSON.stringify(program)}: not a program these checks know`));
    }
  }
}

interface NodeAgentCheck {
  container: Json;
  pod: Json;
  env: Map<string, string>;
  args: string[];
  expanded: ReadonlySet<string>;
  volumes: ReadonlyMap<string, Json>;
  lookup: (kind: string, name: unknown) => Indexed | undefined;
  cat: (field: string) => string;
  problems: string[];
}

function checkNodeAgent(check: NodeAgentCheck, contracts: Contracts): void {
  const { container, pod, env, args, cat, problems } = check;
  checkEnvNames(env, contracts.node.envNames, check.expanded, 'margay-node', cat, problems);
  let settings: NodeAgentSettings;
  try {
    settings = contracts.node.parse(args, Object.fromEntries(env));
  } catch (error) {
    problems.push(cat(`margay-node refuses its args and env: ${(error as Error).message}`));
    return;
  }
  for (const [probe, path] of [
    ['livenessProbe', '/liveness'],
    ['readinessProbe', '/readiness'],
  ] as const) {
    const httpGet = record(record(container[probe])['httpGet']);
    if (Object.keys(httpGet).length === 0) {
      problems.push(cat(`${probe}: required (an httpGet of ${path})`));
      continue;
    }
    if (httpGet['path'] !== path) problems.push(cat(`${probe}.httpGet.path must be ${path}`));
    if (settings.healthPort === 0) problems.push(cat(`${probe}: --health-port 0 turns the probes off`));
    else if (httpGet['port'] !== settings.healthPort) {
      problems.push(
        cat(`${probe}.httpGet.port ${httpGet['port']} is not --health-port ${settings.healthPort}`),
      );
    }
    // margay-node serves the probes on the loopback only: the kubelet must ask there.
    if (httpGet['host'] !== '127.0.0.1') problems.push(cat(`${probe}.httpGet.host must be 127.0.0.1`));
  }
  const annotations = record(record(pod['metadata'])['annotations']);
  if (annotations['prometheus.io/scrape'] === 'true') {
    if (annotations['prometheus.io/port'] !== String(settings.metricsPort)) {
      problems.push(
        cat(
          `annotation prometheus.io/port ${annotations['prometheus.io/port']} is not --metrics-port ${settings.metricsPort}`,
        ),
      );
    }
    if (annotations['prometheus.io/path'] !== '/metrics')
      problems.push(cat('annotation prometheus.io/path must be /metrics'));
  }
  checkEtcdFiles(check);
}

/** ETCD_*_FILE must name a key of a Secret mounted at that directory. */
function checkEtcdFiles({ container, env, volumes, lookup, cat, problems }: NodeAgentCheck): void {
  for (const variable of ['ETCD_CA_CERT_FILE', 'ETCD_CERT_FILE', 'ETCD_KEY_FILE']) {
    const file = env.get(variable);
    if (file === undefined) continue;
    const directory = file.slice(0, file.lastIndexOf('/'));
    const key = file.slice(file.lastIndexOf('/') + 1);
    const mount = list(container['volumeMounts'])
      .map(record)
      .find((m) => m['mountPath'] === directory);
    const secretName = record(volumes.get(String(mount?.['name']))?.['secret'])['secretName'];
    const secret = secretName === undefined ? undefined : lookup('Secret', secretName);
    if (!secret) {
      problems.push(cat(`${variable} ${file}: no Secret volume is mounted at ${directory}`));
      continue;
    }
    const keys = [
      ...Object.keys(record(secret.object['data'])),
      ...Object.keys(record(secret.object['stringData'])),
    ];
    if (!keys.includes(key))
      problems.push(cat(`${variable} ${file}: Secret ${secret.name} has no key ${key}`));
  }
}

function checkEnvNames(
  env: ReadonlyMap<string, string>,
  read: ReadonlySet<string>,
  expanded: ReadonlySet<string>,
  program: string,
  cat: (field: string) => string,
  problems: string[],
): void {
  for (const name of env.keys()) {
    if (!read.has(name) && !expanded.has(name)) {
      problems.push(
        cat(`env ${name}: ${program} does not read it (it reads ${[...read].sort().join(', ')})`),
      );
    }
  }
}

/** The container's environment with references resolved; unresolvable ones are problems. */
function resolveEnv(
  container: Json,
  lookup: (kind: string, name: unknown) => Indexed | undefined,
  cat: (field: string) => string,
  problems: string[],
): Map<string, string> {
  const env = new Map<string, string>();
  for (const entry of list(container['env']).map(record)) {
    const name = entry['name'];
    if (typeof name !== 'string') {
      problems.push(cat('env: an entry without a name'));
      continue;
    }
    if (typeof entry['value'] === 'string') {
      env.set(name, entry['value']);
      continue;
    }
    const from = record(entry['valueFrom']);
    const configMapRef = record(from['configMapKeyRef']);
    const fieldRef = record(from['fieldRef']);
    if (configMapRef['name'] !== undefined) {
      const configMap = lookup('ConfigMap', configMapRef['name']);
      const value = configMap && record(configMap.object['data'])[String(configMapRef['key'])];
      if (typeof value !== 'string') {
        problems.push(cat(`env ${name}: no key ${configMapRef['key']} in ConfigMap ${configMapRef['name']}`));
      } else env.set(name, value);
    } else if (fieldRef['fieldPath'] !== undefined) {
      const sample = FIELD_REF_SAMPLES[String(fieldRef['fieldPath'])];
      if (sample === undefined)
        problems.push(cat(`env ${name}: unsupported fieldPath ${fieldRef['fieldPath']}`));
      else env.set(name, sample);
    } else {
      problems.push(cat(`env ${name}: needs value, valueFrom.configMapKeyRef or valueFrom.fieldRef`));
    }
  }
  return env;
}

/** Kubernetes' $(VAR) expansion in command and args. */
function expand(text: string, env: ReadonlyMap<string, string>): string {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env.get(name) ?? whole);
}

function referencedVariables(text: string): string[] {
  return [...text.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((match) => match[1]!);
}

function checkBinding(binding: Indexed, objects: readonly Indexed[], problems: string[]): void {
  const at = `${binding.doc.source}: ${binding.kind} ${binding.name}`;
  const roleRef = record(binding.object['roleRef']);
  if (!objects.some((o) => o.kind === roleRef['kind'] && o.name === roleRef['name'])) {
    problems.push(`${at} roleRef: no ${roleRef['kind']} ${roleRef['name']}`);
  }
  for (const subject of list(binding.object['subjects']).map(record)) {
    if (subject['kind'] !== 'ServiceAccount') continue;
    const found = objects.some(
      (o) =>
        o.kind === 'ServiceAccount' && o.name === subject['name'] && o.namespace === subject['namespace'],
    );
    if (!found) problems.push(`${at} subjects: no ServiceAccount ${subject['namespace']}/${subject['name']}`);
  }
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(value: unknown): Json {
  return isRecord(value) ? value : {};
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
