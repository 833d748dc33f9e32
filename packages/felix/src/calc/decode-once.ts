// One decode per stored value, however many calc stages read it: the WorkloadEndpoint watch feeds
// both the route and the policy calc the same KeyValue object, one right after the other, and
// validating 10,000 endpoints twice was a tenth of felix's start. Keyed by the object itself (not
// by key or revision), so an entry can never be stale. Only the latest value is remembered: the
// readers of one event ask in turn, and a cache holding every decoded resource for as long as the
// watch holds its KeyValue kept 10,000 resources alive that nothing reads again (each garbage
// collection at start copied them). WorkloadEndpoints, policies and profiles take fast readers
// (workload-endpoint-reader.ts, policy-reader.ts); every other kind, and any value a reader is
// unsure of, the full schema.

import { decodeResource, type Resource, validateResource, type WorkloadEndpoint } from '@margay/api';
import { parsePrefix } from '@margay/dataplane';
import type { KeyValue } from '@margay/datastore';
import { readPolicyResource } from './policy-reader';
import { readWorkloadEndpoint } from './workload-endpoint-reader';

/** Endpoints the fast reader returned: their ipNetworks are canonical IPv4 prefixes already. */
const canonical = new WeakSet<Resource>();

/** The latest KeyValue decoded, and its resource or why it has none. */
let latest: KeyValue | undefined;
let latestResource: Resource | undefined;
let latestFailure: Error | undefined;

/** The stored value as a resource, remembered for this KeyValue object; a corrupt value throws every time. */
export function decodeStored(kv: KeyValue): Resource {
  if (kv !== latest) {
    latest = kv;
    latestResource = undefined;
    latestFailure = undefined;
    try {
      latestResource = decode(kv.value);
    } catch (error) {
      latestFailure = error as Error;
    }
  }
  if (latestFailure !== undefined) throw latestFailure;
  return latestResource!;
}

function decode(value: string): Resource {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return decodeResource(value); // throws the codec's own error for invalid JSON
  }
  const endpoint = readWorkloadEndpoint(parsed);
  if (endpoint !== undefined) {
    canonical.add(endpoint);
    return endpoint;
  }
  return readPolicyResource(parsed) ?? validateResource(parsed, STORE_SOURCE);
}

/** The endpoint's networks as canonical prefixes ("10.0.1.5/32"); throws naming a bad one. */
export function endpointNetworks(endpoint: WorkloadEndpoint): string[] {
  const { ipNetworks } = endpoint.spec;
  if (canonical.has(endpoint)) return ipNetworks;
  return ipNetworks.map((net, index) => parsePrefix(net, `spec.ipNetworks[${index}]`).text);
}

/** Where decodeResource says a stored value came from, so errors read the same on both paths. */
const STORE_SOURCE = 'datastore';
