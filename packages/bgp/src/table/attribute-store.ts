// Interned attribute sets of received and originated paths, with the facts best-path
// selection reads from them computed once per set rather than once per route.

import { asPathLength, EMPTY_AS_PATH } from '../packet/as-path';
import { type AttributeSetSpec, buildAttributes } from '../packet/attribute-builder';
import { AsPathSegmentType } from '../packet/constants';
import type { PathAttributes } from '../packet/path-attributes';
import type { Interner } from './interner';

export interface StoredAttributes {
  readonly attributes: PathAttributes;
  readonly asPathLength: number;
  /** First AS of a leading AS_SEQUENCE; 0 when the path starts otherwise (a local or iBGP route). */
  readonly neighbourAs: number;
}

/**
 * The intern key: the canonical bytes, plus the MP_REACH_NLRI next hop, which canonical form
 * leaves out but which differs between otherwise equal IPv6 paths.
 */
export function attributeKey(attributes: PathAttributes): string {
  const key = attributes.canonical.toString('latin1');
  return attributes.mpNextHop ? `${key}\u0100${attributes.mpNextHop.toString('latin1')}` : key;
}

function neighbourAs(attributes: PathAttributes): number {
  const path = attributes.asPath;
  return path.length > 2 && path[0] === AsPathSegmentType.AsSequence ? path[2]! : 0;
}

export function storedAttributes(attributes: PathAttributes): StoredAttributes {
  return { attributes, asPathLength: asPathLength(attributes.asPath), neighbourAs: neighbourAs(attributes) };
}

export type AttributeStore = Interner<StoredAttributes>;

/** The attributes of a path described by a spec, as the UPDATE decoder would produce them. */
export function pathAttributes(spec: AttributeSetSpec, mpNextHop: Buffer | null = null): PathAttributes {
  return {
    canonical: buildAttributes(spec, { fourOctetAs: true, ibgp: true }),
    origin: spec.origin,
    asPath: spec.asPath ?? EMPTY_AS_PATH,
    nextHop: spec.nextHop ?? null,
    mpNextHop,
    med: spec.med ?? null,
    localPref: spec.localPref ?? null,
    atomicAggregate: spec.atomicAggregate ?? false,
    aggregator: spec.aggregator ?? null,
    communities: spec.communities ? Uint32Array.from(spec.communities) : null,
    originatorId: spec.originatorId ?? null,
    clusterList: spec.clusterList ? Uint32Array.from(spec.clusterList) : null,
    otherTransitive: spec.otherTransitive ?? null,
  };
}
