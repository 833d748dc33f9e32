import type { Kind, Resource } from '@margay/api';

export interface Column {
  header: string;
  value(resource: Resource): string;
}

interface KindColumns {
  columns: Column[];
  /** Added by `-o wide`. */
  wide: Column[];
}

const name: Column = { header: 'NAME', value: (resource) => resource.metadata.name };
export const namespaceColumn: Column = {
  header: 'NAMESPACE',
  value: (resource) => resource.metadata.namespace ?? '',
};

/** A column showing the value at a dotted path of the resource (`spec.bgp.asNumber`). */
function field(header: string, path: string): Column {
  return { header, value: (resource) => show(valueAt(resource, path)) };
}

const policyColumns: KindColumns = {
  columns: [name, field('TIER', 'spec.tier')],
  wide: [field('ORDER', 'spec.order'), field('SELECTOR', 'spec.selector')],
};

/** calicoctl's table headers per kind (calicoctl get -o ps / -o wide). */
const TABLES: Record<Kind, KindColumns> = {
  IPPool: {
    columns: [name, field('CIDR', 'spec.cidr'), field('SELECTOR', 'spec.nodeSelector')],
    wide: [
      field('NAT', 'spec.natOutgoing'),
      field('IPIPMODE', 'spec.ipipMode'),
      field('VXLANMODE', 'spec.vxlanMode'),
      field('DISABLED', 'spec.disabled'),
      field('DISABLEBGPEXPORT', 'spec.disableBGPExport'),
      field('ASSIGNMENTMODE', 'spec.assignmentMode'),
    ],
  },
  BGPPeer: {
    columns: [
      name,
      field('PEERIP', 'spec.peerIP'),
      {
        header: 'NODE',
        // A peer without node or nodeSelector applies to every node.
        value: (resource) =>
          show(valueAt(resource, 'spec.node') ?? valueAt(resource, 'spec.nodeSelector')) || '(global)',
      },
      field('ASN', 'spec.asNumber'),
    ],
    wide: [],
  },
  BGPConfiguration: {
    columns: [
      name,
      field('LOGSEVERITY', 'spec.logSeverityScreen'),
      field('MESHENABLED', 'spec.nodeToNodeMeshEnabled'),
      field('ASNUMBER', 'spec.asNumber'),
    ],
    wide: [],
  },
  Node: {
    columns: [name],
    wide: [
      field('ASN', 'spec.bgp.asNumber'),
      field('IPV4', 'spec.bgp.ipv4Address'),
      field('IPV6', 'spec.bgp.ipv6Address'),
    ],
  },
  NetworkPolicy: policyColumns,
  GlobalNetworkPolicy: policyColumns,
  HostEndpoint: {
    columns: [name, field('NODE', 'spec.node')],
    wide: [
      field('INTERFACE', 'spec.interfaceName'),
      field('IPS', 'spec.expectedIPs'),
      field('PROFILES', 'spec.profiles'),
    ],
  },
  WorkloadEndpoint: {
    columns: [
      name,
      // Kubernetes endpoints name their pod, other orchestrators their workload.
      { header: 'WORKLOAD', value: (r) => show(valueAt(r, 'spec.workload') ?? valueAt(r, 'spec.pod')) },
      field('NODE', 'spec.node'),
      field('NETWORKS', 'spec.ipNetworks'),
      field('INTERFACE', 'spec.interfaceName'),
    ],
    wide: [field('PROFILES', 'spec.profiles')],
  },
  FelixConfiguration: { columns: [name], wide: [] },
  Profile: { columns: [name], wide: [field('LABELSTOAPPLY', 'spec.labelsToApply')] },
  IPAMConfiguration: {
    columns: [name],
    wide: [
      field('STRICTAFFINITY', 'spec.strictAffinity'),
      field('AUTOALLOCATEBLOCKS', 'spec.autoAllocateBlocks'),
      field('MAXBLOCKSPERHOST', 'spec.maxBlocksPerHost'),
    ],
  },
};

export function columnsFor(kind: Kind, wide: boolean): Column[] {
  const { columns, wide: extra } = TABLES[kind];
  return wide ? [...columns, ...extra] : columns;
}

function valueAt(resource: Resource, path: string): unknown {
  let value: unknown = resource;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map(show).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
