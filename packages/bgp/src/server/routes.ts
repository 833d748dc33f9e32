// Table routes as the management API shows them: plain strings and numbers, no wire encodings.

import { asPathToString } from '../packet/as-path';
import { formatIpv4, formatIpv6 } from '../packet/ip';
import type { Route } from '../table/rib';

export interface RouteView {
  readonly prefix: string;
  readonly best: boolean;
  readonly nextHop: string;
  readonly asPath: string;
  readonly origin: 'igp' | 'egp' | 'incomplete';
  readonly localPref: number | null;
  readonly med: number | null;
  /** RFC 1997 communities as "AS:value". */
  readonly communities: readonly string[];
  /** The address of the peer it was learned from, or "local" for our own. */
  readonly fromPeer: string;
}

export interface RibFilter {
  readonly family?: 'ipv4' | 'ipv6';
  /** Only this prefix (canonical spelling). */
  readonly prefix?: string;
}

const ORIGINS = ['igp', 'egp', 'incomplete'] as const;

export function nextHopOf(route: Route): string {
  const { nextHop, mpNextHop } = route.attributes;
  if (nextHop !== null) return formatIpv4(nextHop);
  if (mpNextHop === null) return '';
  if (mpNextHop.length === 4) return formatIpv4(mpNextHop.readUInt32BE(0));
  const words = [0, 4, 8, 12].map((at) => mpNextHop.readUInt32BE(at));
  return formatIpv6(words);
}

export function routeView(route: Route, best: boolean, fromPeer: string): RouteView {
  const a = route.attributes;
  return {
    prefix: route.prefix,
    best,
    nextHop: nextHopOf(route),
    asPath: asPathToString(a.asPath),
    origin: ORIGINS[a.origin] ?? 'incomplete',
    localPref: a.localPref,
    med: a.med,
    communities: Array.from(a.communities ?? [], (c) => `${c >>> 16}:${c & 0xffff}`),
    fromPeer,
  };
}

export function matchesFilter(prefix: string, filter: RibFilter): boolean {
  if (filter.prefix !== undefined && filter.prefix !== prefix) return false;
  if (filter.family === undefined) return true;
  return (filter.family === 'ipv6') === prefix.includes(':');
}
