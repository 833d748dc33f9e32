// This node's Node resource: created on first start, updated on later ones. Only the fields the
// node owns are written; everything else (tunnel addresses, other labels, ...) is kept, and the
// write is a compare-and-swap so a concurrent edit is never lost.

import { hostname } from 'node:os';
import {
  API_VERSION,
  decodeResource,
  encodeResource,
  type Node,
  resourceKey,
  validateResource,
} from '@margay/api';
import { ConflictError, type Datastore } from '@margay/datastore';
import { parseAutodetectMethod } from './autodetect';

export interface NodeRegistration {
  readonly name: string;
  /** The BGP address in CIDR form, e.g. `10.0.0.5/24`. */
  readonly ipv4Address: string;
  /** AS number override; unset keeps whatever the Node has. */
  readonly asNumber?: number;
  /** Makes the node a route reflector; unset keeps whatever the Node has. */
  readonly routeReflectorClusterID?: string;
  /** Merged over the Node's labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** How margay-node finds out what to register, from Calico's environment variables. */
export interface NodeEnvironment {
  /** `NODENAME`, default the host name. */
  readonly name: string;
  /** `IP` if it is an address, else `IP_AUTODETECTION_METHOD`, default `first-found`. */
  readonly addressMethod: string;
  /** `AS`. */
  readonly asNumber?: number;
  /** `ROUTE_REFLECTOR_CLUSTER_ID`. */
  readonly routeReflectorClusterID?: string;
}

const MAX_ATTEMPTS = 5;

export function nodeEnvironment(env: NodeJS.ProcessEnv): NodeEnvironment {
  const explicitIp = env.IP !== undefined && env.IP !== '' && env.IP !== 'autodetect' ? env.IP : undefined;
  const addressMethod = explicitIp ?? env.IP_AUTODETECTION_METHOD ?? 'first-found';
  parseAutodetectMethod(addressMethod); // a bad method fails at startup, naming itself
  const as = env.AS;
  if (as !== undefined && !/^\d{1,10}$/.test(as))
    throw new Error(`AS: ${JSON.stringify(as)} is not an AS number`);
  return {
    name: env.NODENAME || hostname(),
    addressMethod,
    asNumber: as === undefined ? undefined : Number(as),
    routeReflectorClusterID: env.ROUTE_REFLECTOR_CLUSTER_ID || undefined,
  };
}

/** A written Node and the datastore revision of that write. */
export interface RegisteredNode {
  readonly node: Node;
  readonly revision: number;
}

/** Creates or updates the Node; throws (writing nothing) if the result would not validate. */
export async function registerNode(store: Datastore, registration: NodeRegistration): Promise<Node> {
  return (await writeRegistration(store, registration)).node;
}

/** registerNode, also returning the revision of the write (watchers see it with that modRevision). */
export async function writeRegistration(
  store: Datastore,
  registration: NodeRegistration,
): Promise<RegisteredNode> {
  const key = resourceKey('Node', registration.name);
  for (let attempt = 1; ; attempt++) {
    const stored = await store.get(key);
    const node = mergedAndChecked(stored?.value, registration);
    try {
      const written = await store.put(key, encodeResource(node), { prevRevision: stored?.modRevision ?? 0 });
      return { node, revision: written.modRevision };
    } catch (error) {
      if (!(error instanceof ConflictError) || attempt === MAX_ATTEMPTS) throw error;
    }
  }
}

/**
 * The Node registerNode would write now, without writing it: what the BGP speaker is configured
 * from while it starts listening, before other nodes learn about this one.
 */
export async function plannedNode(store: Datastore, registration: NodeRegistration): Promise<Node> {
  const stored = await store.get(resourceKey('Node', registration.name));
  return mergedAndChecked(stored?.value, registration);
}

function mergedAndChecked(storedValue: string | undefined, registration: NodeRegistration): Node {
  const existing = storedValue === undefined ? undefined : (decodeResource(storedValue) as Node);
  return validateResource(merged(existing, registration), `Node ${registration.name}`) as Node;
}

function merged(existing: Node | undefined, registration: NodeRegistration): Node {
  const { name, ipv4Address, asNumber, routeReflectorClusterID, labels } = registration;
  const spec = existing?.spec ?? {};
  const bgp = { ...spec.bgp, ipv4Address };
  if (asNumber !== undefined) bgp.asNumber = asNumber;
  if (routeReflectorClusterID !== undefined) bgp.routeReflectorClusterID = routeReflectorClusterID;
  const metadata = existing?.metadata ?? { name };
  return {
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { ...metadata, labels: { ...metadata.labels, ...labels } },
    spec: { ...spec, bgp },
  };
}
