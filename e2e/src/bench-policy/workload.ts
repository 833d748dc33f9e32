// The policy benchmark's datastore contents, generated deterministically: namespaces (Calico's
// `kns.` profiles), local and remote pods (WorkloadEndpoints as margay-cni writes them), and
// Kubernetes NetworkPolicies of the shapes real clusters use (pod selectors, namespace AND pod
// selectors, ipBlocks with except, port ranges, egress to databases), converted as margayctl does.
import { API_VERSION, encodeResource, type Resource, resourceKey, validateResource } from '@margay/api';

export interface Scale {
  readonly localEndpoints: number;
  readonly remoteEndpoints: number;
  readonly policies: number;
  readonly changes: number;
}

export const FULL_SCALE: Scale = {
  localEndpoints: 200,
  remoteEndpoints: 10_000,
  policies: 1_000,
  changes: 200,
};
export const QUICK_SCALE: Scale = { localEndpoints: 20, remoteEndpoints: 1_000, policies: 100, changes: 30 };

export const BENCH_NODE = 'bench-node';
export const POOL_CIDR = '10.64.0.0/14';
const NAMESPACES = 20;
const APPS = 50;
const TEAMS = 5;
const REMOTE_NODES = 100;
const ROLES = ['frontend', 'backend', 'db'] as const;
/** lcm(NAMESPACES, APPS): policy i and local pod j share namespace and app when i ≡ j modulo it. */
const SELECTION_PERIOD = 100;

export interface StoredDocument {
  readonly key: string;
  readonly value: string;
}

export interface Pod {
  readonly name: string;
  readonly namespace: string;
  readonly node: string;
  readonly ip: string;
  readonly interfaceName: string;
  readonly labels: Record<string, string>;
}

function document(resource: unknown): StoredDocument {
  const valid = validateResource(resource, 'the policy benchmark');
  return {
    key: resourceKey(valid.kind, valid.metadata.name, valid.metadata.namespace),
    value: encodeResource(valid as Resource),
  };
}

export const namespaceName = (index: number) => `ns-${index % NAMESPACES}`;
const teamOf = (namespaceIndex: number) => `team-${namespaceIndex % TEAMS}`;

/** `10.<second>.x.y` for the n-th address of a /16. */
function address(second: number, n: number): string {
  return `10.${second}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

export function localPod(index: number): Pod {
  return {
    name: `local-${index}`,
    namespace: namespaceName(index),
    node: BENCH_NODE,
    ip: address(64, index + 1),
    interfaceName: `mgb${index}`,
    labels: { app: `app-${index % APPS}`, role: ROLES[index % ROLES.length]! },
  };
}

/** Remote pods live in 10.65/16; `generation` > 0 gives pods added later their own 10.66/16 range. */
export function remotePod(index: number, generation = 0): Pod {
  return {
    name: generation === 0 ? `remote-${index}` : `late-${index}`,
    namespace: namespaceName(index * 7),
    node: `remote-${index % REMOTE_NODES}`,
    ip: address(generation === 0 ? 65 : 66, index + 1),
    interfaceName: `mgr${index}`,
    labels: { app: `app-${(index * 3) % APPS}`, role: ROLES[index % ROLES.length]! },
  };
}

export function podDocument(pod: Pod): StoredDocument {
  return document({
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: `${pod.node}-k8s-${pod.name}-eth0`,
      namespace: pod.namespace,
      labels: {
        ...pod.labels,
        'projectcalico.org/namespace': pod.namespace,
        'projectcalico.org/orchestrator': 'k8s',
      },
    },
    spec: {
      orchestrator: 'k8s',
      node: pod.node,
      pod: pod.name,
      endpoint: 'eth0',
      interfaceName: pod.interfaceName,
      ipNetworks: [`${pod.ip}/32`],
      profiles: [`kns.${pod.namespace}`],
    },
  });
}

export function namespaceDocuments(): StoredDocument[] {
  return Array.from({ length: NAMESPACES }, (_, index) =>
    document({
      apiVersion: API_VERSION,
      kind: 'Profile',
      metadata: { name: `kns.${namespaceName(index)}` },
      spec: {
        ingress: [{ action: 'Allow' }],
        egress: [{ action: 'Allow' }],
        labelsToApply: {
          'pcns.projectcalico.org/name': namespaceName(index),
          'pcns.team': teamOf(index),
          'pcns.env': index % 2 === 0 ? 'prod' : 'dev',
        },
      },
    }),
  );
}

export function poolDocument(): StoredDocument {
  return document({
    apiVersion: API_VERSION,
    kind: 'IPPool',
    metadata: { name: 'bench' },
    spec: { cidr: POOL_CIDR, blockSize: 26, natOutgoing: true },
  });
}

/**
 * Policy `index`, one of four shapes; `port` replaces its first port (a policy change).
 */
export function policyDocument(index: number, port?: number): StoredDocument {
  const namespace = namespaceName(index);
  const app = `app-${index % APPS}`;
  const peerApp = `app-${(index * 7 + 3) % APPS}`;
  const shapes = [
    () => ({
      ingress: [
        { from: [{ podSelector: { matchLabels: { app: peerApp } } }], ports: [{ port: port ?? 8080 }] },
      ],
    }),
    () => ({
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { team: `team-${index % TEAMS}` } },
              podSelector: { matchLabels: { role: 'frontend' } },
            },
          ],
          ports: [{ port: port ?? 443 }, { port: 8443 }],
        },
      ],
    }),
    () => ({
      ingress: [
        {
          from: [
            { namespaceSelector: { matchLabels: { env: 'prod' } } },
            { ipBlock: { cidr: '10.0.0.0/8', except: [`10.65.${index % 256}.0/24`] } },
          ],
          ports: [
            { protocol: 'UDP', port: port ?? 53 },
            { protocol: 'TCP', port: 9000, endPort: 9100 },
          ],
        },
      ],
    }),
    () => ({
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { role: 'backend' } } }] }],
      egress: [
        {
          to: [{ podSelector: { matchLabels: { app: peerApp } } }, { ipBlock: { cidr: '172.16.0.0/12' } }],
          ports: [{ port: port ?? 5432 }],
        },
      ],
    }),
  ];
  return document({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `np-${index}`, namespace },
    spec: { podSelector: { matchLabels: { app } }, ...shapes[index % shapes.length]!() },
  });
}

/** Everything the benchmark stores before felix starts. */
export function initialDocuments(scale: Scale): StoredDocument[] {
  return [
    poolDocument(),
    ...namespaceDocuments(),
    ...Array.from({ length: scale.localEndpoints }, (_, i) => podDocument(localPod(i))),
    ...Array.from({ length: scale.remoteEndpoints }, (_, i) => podDocument(remotePod(i))),
    ...Array.from({ length: scale.policies }, (_, i) => policyDocument(i)),
  ];
}

export type ChangeKind = 'policy' | 'label' | 'new-pod';
export const CHANGE_KINDS: readonly ChangeKind[] = ['policy', 'label', 'new-pod'];

/** One etcd write, and what must reach the kernel for it to count as done. */
export interface Change {
  readonly kind: ChangeKind;
  readonly document: StoredDocument;
  /** A policy change: a destination port only the new rule has. */
  readonly port?: number;
  /** A label change or a new pod: the address that must become a member of some set. */
  readonly member?: string;
}

/**
 * Change `n`: a policy gets a port nothing else uses; a remote pod that is not a frontend becomes
 * one (so it joins the sets of the namespace-and-role selectors); a new frontend pod appears.
 */
export function change(n: number, scale: Scale): Change {
  const kind = CHANGE_KINDS[n % CHANGE_KINDS.length]!;
  if (kind === 'policy') {
    // Shape-0 policies (a podSelector peer on one port) that select local pods, so felix renders
    // them: policy i selects local pod j when j ≡ i (mod 100), as namespaces cycle by 20, apps by 50.
    const inUse = Array.from({ length: scale.policies }, (_, i) => i).filter(
      (i) => i % 4 === 0 && i % SELECTION_PERIOD < scale.localEndpoints,
    );
    const shape0 = inUse[(Math.floor(n / CHANGE_KINDS.length) * 7) % inUse.length]!;
    const port = 20_000 + n;
    return { kind, document: policyDocument(shape0, port), port };
  }
  if (kind === 'label') {
    // Remote pods whose role is not frontend: index % 3 !== 0.
    const step = Math.floor(n / CHANGE_KINDS.length);
    const index = (step * 3 + 1 + (step % 2)) % scale.remoteEndpoints;
    const pod = remotePod(index);
    return {
      kind,
      document: podDocument({ ...pod, labels: { ...pod.labels, role: 'frontend' } }),
      member: pod.ip,
    };
  }
  const pod = remotePod(n, 1);
  return {
    kind,
    document: podDocument({ ...pod, labels: { ...pod.labels, role: 'frontend' } }),
    member: pod.ip,
  };
}

/** The value at fraction `q` (0..1) of the sorted values (nearest rank). */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new Error('quantile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}
