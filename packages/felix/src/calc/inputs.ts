// Decoding of the datastore values the route calc stage consumes. Each decoder throws an error
// naming the key and what is wrong, so a corrupt value can be reported and ignored.

import { isKind } from '@margay/api';
import { parsePrefix } from '@margay/dataplane';
import type { KeyValue } from '@margay/datastore';
import { cidrOfKey } from '@margay/ipam';
import { decodeStored, endpointNetworks } from './decode-once';

/** What routing needs to know of one WorkloadEndpoint. */
export interface EndpointRoutes {
  readonly node: string;
  readonly interfaceName: string;
  /** The endpoint's addresses as canonical prefixes, e.g. "10.0.1.5/32". */
  readonly ipNetworks: readonly string[];
}

export function decodeEndpoint(kv: KeyValue): EndpointRoutes {
  return decodeEndpointOf(kv, undefined)!;
}

/**
 * The endpoint if it is on `node` (on any node if undefined), else undefined: a node's routes
 * need only its own endpoints, and a start lists those of every node (10,000 and more).
 */
export function decodeEndpointOf(kv: KeyValue, node: string | undefined): EndpointRoutes | undefined {
  try {
    const resource = decodeStored(kv);
    if (!isKind(resource, 'WorkloadEndpoint')) {
      throw new Error(`expected a WorkloadEndpoint, found a ${resource.kind}`);
    }
    const { spec } = resource;
    if (node !== undefined && spec.node !== node) return undefined;
    return {
      node: spec.node,
      interfaceName: spec.interfaceName,
      ipNetworks: endpointNetworks(resource),
    };
  } catch (error) {
    throw new Error(`${kv.key}: ${(error as Error).message}`);
  }
}

/**
 * The block an affinity key claims, or undefined unless the claim is confirmed (Calico's
 * affinity states also include `pending` and released claims marked deleted).
 */
export function decodeAffinity(kv: KeyValue): string | undefined {
  let cidr: string;
  let value: unknown;
  try {
    cidr = parsePrefix(cidrOfKey(kv.key), 'block').text;
    value = JSON.parse(kv.value);
  } catch (error) {
    throw new Error(`${kv.key}: ${(error as Error).message}`);
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { state?: unknown }).state !== 'string'
  ) {
    throw new Error(`${kv.key}: an affinity must be an object with a string "state", got ${kv.value}`);
  }
  const affinity = value as { state: string; deleted?: unknown };
  return affinity.state === 'confirmed' && affinity.deleted !== true ? cidr : undefined;
}
