// What this node's BGP speaker should look like, computed from the datastore alone: the
// node-to-node mesh, BGPPeer resources, route reflection and the prefixes we originate. Pure, so
// every rule (passive side, who leaves the mesh, who is a reflector client) is tested by table.

import { BlockList, isIPv4 } from 'node:net';
import {
  BGP_DEFAULTS,
  type BGPConfiguration,
  type BGPConfigurationSpec,
  type BGPPeer,
  DEFAULT_CONFIGURATION_NAME,
  type IPPool,
  type Node,
  parseSelector,
  selectorMatches,
} from '@margay/api';
import { type DaemonConfig, type PrefixListPolicy, validateConfig } from '@margay/bgp';

const BGP_PORT = 179;

/** Everything the BGP configuration of one node depends on. */
export interface BgpSnapshot {
  readonly nodeName: string;
  readonly nodes: readonly Node[];
  /** Any BGPConfigurations; `default` and `node.<nodeName>` are the ones used. */
  readonly configurations: readonly BGPConfiguration[];
  readonly peers: readonly BGPPeer[];
  /** CIDRs of the IPAM blocks affine to this node (not blocks it merely borrowed from). */
  readonly affineBlocks: readonly string[];
  readonly pools: readonly IPPool[];
}

export interface BgpConfigOptions {
  /** Install learned best paths into the kernel. */
  readonly installRoutes: boolean;
}

/** A node that has a BGP address; the others take no part in BGP. */
interface BgpNode {
  readonly name: string;
  readonly address: string;
  readonly asNumber: number;
  readonly clusterId: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
}

interface PeerDocument {
  address: string;
  asNumber: number;
  port: number;
  localAddress: string | undefined;
  passive: boolean;
  routeReflectorClient: boolean;
  connectRetryTime: number;
  import: 'all';
  export: ExportPolicy;
}

type ExportPolicy = PrefixListPolicy | 'none';

/**
 * The speaker configuration of `snapshot.nodeName`. Throws if that node has no IPv4 BGP address
 * yet (it cannot take part in BGP until registration has given it one).
 */
export function bgpServerConfig(snapshot: BgpSnapshot, options: BgpConfigOptions): DaemonConfig {
  const settings = effectiveSettings(snapshot);
  const globalAs = settings.asNumber ?? BGP_DEFAULTS.asNumber;
  const nodes = snapshot.nodes.flatMap((n) => bgpNode(n, globalAs) ?? []);
  const self = nodes.find((n) => n.name === snapshot.nodeName);
  if (!self) {
    throw new Error(`node ${snapshot.nodeName}: no Node resource with spec.bgp.ipv4Address yet`);
  }
  const nodePort = settings.listenPort ?? BGP_PORT;
  const exportedPools = snapshot.pools.filter((p) => !p.spec.disabled && !p.spec.disableBGPExport);
  const services = serviceCidrs(settings);
  const context: PeerContext = {
    self,
    nodes,
    nodePort,
    exportPolicy: clusterRoutes(exportedPools, services),
  };

  // Explicit peers first: where one names the same address as the mesh, its settings win.
  const peers = new Map<string, PeerDocument>();
  for (const resource of [...snapshot.peers].sort(byName)) {
    if (!appliesTo(resource, self)) continue;
    for (const peer of explicitPeers(resource, context)) {
      if (!peers.has(peer.address)) peers.set(peer.address, peer);
    }
  }
  const meshEnabled = settings.nodeToNodeMeshEnabled ?? BGP_DEFAULTS.nodeToNodeMeshEnabled;
  if (meshEnabled && self.clusterId === undefined) {
    for (const node of nodes) {
      // Reflectors leave the mesh; clients reach them through BGPPeers.
      if (node.clusterId !== undefined || node.address === self.address || peers.has(node.address)) continue;
      peers.set(node.address, peerTo(node.address, node.asNumber, nodePort, self.address, context));
    }
  }

  const document = {
    asNumber: self.asNumber,
    routerId: self.address,
    listen: { address: settings.bindMode === 'NodeIP' ? self.address : '0.0.0.0', port: nodePort },
    api: false,
    originate: originatedPrefixes(snapshot.affineBlocks, exportedPools, services),
    peers: [...peers.values()].sort((a, b) => (a.address < b.address ? -1 : 1)),
    routeReflector: self.clusterId === undefined ? undefined : { clusterId: self.clusterId },
    fib: { enabled: options.installRoutes },
  };
  return validateConfig(document, `BGP configuration of node ${snapshot.nodeName}`);
}

/** `default` with the node's own `node.<name>` configuration laid over it. */
function effectiveSettings(snapshot: BgpSnapshot): BGPConfigurationSpec {
  const named = (name: string) => snapshot.configurations.find((c) => c.metadata.name === name)?.spec;
  return { ...named(DEFAULT_CONFIGURATION_NAME), ...named(`node.${snapshot.nodeName}`) };
}

function bgpNode(node: Node, globalAs: number): BgpNode | undefined {
  const bgp = node.spec.bgp;
  const address = bgp?.ipv4Address?.split('/')[0];
  if (address === undefined) return undefined;
  return {
    name: node.metadata.name,
    address,
    asNumber: bgp?.asNumber ?? globalAs,
    clusterId: bgp?.routeReflectorClusterID,
    labels: node.metadata.labels ?? {},
  };
}

/** A BGPPeer applies to one node (`node`), to selected nodes (`nodeSelector`) or to all (neither). */
function appliesTo(resource: BGPPeer, self: BgpNode): boolean {
  const { node, nodeSelector } = resource.spec;
  if (node !== undefined) return node === self.name;
  if (nodeSelector !== undefined) return selectorMatches(parseSelector(nodeSelector), self.labels);
  return true;
}

interface PeerContext {
  readonly self: BgpNode;
  readonly nodes: readonly BgpNode[];
  /** The port other nodes listen on (they share the BGPConfiguration). */
  readonly nodePort: number;
  readonly exportPolicy: ExportPolicy;
}

function explicitPeers(resource: BGPPeer, context: PeerContext): PeerDocument[] {
  const { peerIP, peerSelector, asNumber, sourceAddress } = resource.spec;
  const { self, nodes, nodePort } = context;
  const localAddress = sourceAddress === 'None' ? undefined : self.address;
  if (peerSelector !== undefined) {
    const selector = parseSelector(peerSelector);
    return nodes
      .filter((node) => node.address !== self.address && selectorMatches(selector, node.labels))
      .map((node) => peerTo(node.address, node.asNumber, nodePort, localAddress, context));
  }
  if (peerIP === undefined || asNumber === undefined) return []; // localWorkloadSelector peers: not here
  const { address, port } = splitPeerIp(peerIP);
  // IPv6 peers need an IPv6 node address, which the speaker configuration does not carry yet.
  if (!isIPv4(address) || address === self.address) return [];
  const isNode = nodes.some((n) => n.address === address);
  return [peerTo(address, asNumber, port ?? (isNode ? nodePort : BGP_PORT), localAddress, context)];
}

/**
 * One neighbor. Between two margay nodes only one side connects, so the two never collide: like
 * Calico, we are passive towards a node whose address sorts higher as a string. A reflector
 * makes every same-AS peer outside its own cluster a client.
 */
function peerTo(
  address: string,
  asNumber: number,
  port: number,
  localAddress: string | undefined,
  { self, nodes, exportPolicy }: PeerContext,
): PeerDocument {
  const node = nodes.find((n) => n.address === address);
  return {
    address,
    asNumber,
    port,
    localAddress,
    passive: node !== undefined && address > self.address,
    routeReflectorClient:
      self.clusterId !== undefined && asNumber === self.asNumber && node?.clusterId !== self.clusterId,
    // Calico's bgp_template value: a peer that comes up later is reached within seconds.
    connectRetryTime: 5,
    // Like Calico's BIRD: import everything (RFC 8212 would block eBGP), export only cluster
    // routes, so that what an external peer sends us is never passed on to another.
    import: 'all',
    export: exportPolicy,
  };
}

/** `IP`, `IPv4:port` or `[IPv6]:port` (already validated by the BGPPeer schema). */
function splitPeerIp(peerIP: string): { address: string; port: number | undefined } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(peerIP) ?? /^([^:]+):(\d+)$/.exec(peerIP);
  return match ? { address: match[1]!, port: Number(match[2]) } : { address: peerIP, port: undefined };
}

function serviceCidrs(settings: BGPConfigurationSpec): string[] {
  return [
    ...(settings.serviceClusterIPs ?? []),
    ...(settings.serviceExternalIPs ?? []),
    ...(settings.serviceLoadBalancerIPs ?? []),
  ].map((s) => s.cidr);
}

/**
 * Our affine blocks inside enabled pools that allow BGP export, then the service ranges.
 * Borrowed addresses in other nodes' blocks are theirs to announce.
 */
function originatedPrefixes(
  affineBlocks: readonly string[],
  exportedPools: readonly IPPool[],
  services: readonly string[],
): string[] {
  const blocks = affineBlocks.filter((block) =>
    exportedPools.some((pool) => cidrWithin(block, pool.spec.cidr)),
  );
  return [...new Set([...blocks.sort(), ...services])];
}

/**
 * What we send every peer: routes inside exported pools and service ranges, down to single
 * addresses (blocks, borrowed /32s, per-service routes) — ours and, as a reflector, other nodes'.
 */
function clusterRoutes(exportedPools: readonly IPPool[], services: readonly string[]): ExportPolicy {
  const cidrs = [...new Set([...exportedPools.map((p) => p.spec.cidr), ...services])];
  if (cidrs.length === 0) return 'none';
  return {
    prefixes: cidrs.map((prefix) => ({ prefix, le: isIPv4(prefix.split('/')[0]!) ? 32 : 128 })),
    action: 'accept',
  };
}

function cidrWithin(inner: string, outer: string): boolean {
  const [innerAddress = '', innerLength] = inner.split('/');
  const [outerAddress = '', outerLength] = outer.split('/');
  const family = isIPv4(outerAddress) ? 'ipv4' : 'ipv6';
  if (family !== (isIPv4(innerAddress) ? 'ipv4' : 'ipv6')) return false;
  const range = new BlockList();
  range.addSubnet(outerAddress, Number(outerLength), family);
  return Number(innerLength) >= Number(outerLength) && range.check(innerAddress, family);
}

function byName(a: BGPPeer, b: BGPPeer): number {
  return a.metadata.name < b.metadata.name ? -1 : 1;
}
