// Turns configured import/export policies into the table's predicates. An export predicate runs
// for every route sent to an update group, so a prefix list is reduced once to integer ranges and
// the route's prefix text is read by a small scanner rather than parsed into objects.

import type { PolicyConfig, PrefixListPolicy } from '../config/schema';
import { parseIpv4, parseIpv6 } from '../packet/ip';
import type { Policy, PolicyRoute } from '../table/peer';

/** IPv4 entry: addresses first..last (the entry's prefix), route lengths minLength..maxLength. */
interface Ipv4Entry {
  readonly accept: boolean;
  readonly first: number;
  readonly last: number;
  readonly minLength: number;
  readonly maxLength: number;
}

interface Ipv6Entry {
  readonly accept: boolean;
  readonly words: Uint32Array;
  readonly length: number;
  readonly minLength: number;
  readonly maxLength: number;
}

/** Equal policies, whether names or prefix lists. */
export function samePolicy(a: PolicyConfig, b: PolicyConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Compiles policies, handing out one predicate per distinct prefix list: the table puts peers
 * in the same update group only when their export policies are the same function.
 */
export class PolicyCompiler {
  private readonly compiled = new Map<string, Policy>();

  compile(policy: PolicyConfig): Policy {
    if (typeof policy === 'string') return policy;
    const key = JSON.stringify(policy);
    let predicate = this.compiled.get(key);
    if (!predicate) {
      predicate = compilePrefixList(policy);
      this.compiled.set(key, predicate);
    }
    return predicate;
  }

  /** Forgets the predicates of lists no longer configured (after a reload). */
  retain(policies: readonly PolicyConfig[]): void {
    const wanted = new Set(policies.map((p) => JSON.stringify(p)));
    for (const key of this.compiled.keys()) if (!wanted.has(key)) this.compiled.delete(key);
  }
}

/**
 * The first entry matching a route decides, accept or reject; a route no entry matches is
 * rejected (BIRD/FRR prefix-list semantics).
 */
export function compilePrefixList(policy: PrefixListPolicy): (route: PolicyRoute) => boolean {
  const ipv4: Ipv4Entry[] = [];
  const ipv6: Ipv6Entry[] = [];
  for (const entry of policy.prefixes) {
    const [address = '', lengthText = ''] = entry.prefix.split('/');
    const length = Number(lengthText);
    const minLength = entry.ge ?? length;
    const maxLength = entry.le ?? minLength;
    const accept = (entry.action ?? policy.action) === 'accept';
    if (address.includes(':')) {
      ipv6.push({ accept, words: parseIpv6(address), length, minLength, maxLength });
    } else {
      const first = parseIpv4(address);
      ipv4.push({ accept, first, last: first + 2 ** (32 - length) - 1, minLength, maxLength });
    }
  }
  return (route) =>
    route.prefix.includes(':') ? matchesIpv6(ipv6, route.prefix) : matchesIpv4(ipv4, route.prefix);
}

function matchesIpv4(entries: readonly Ipv4Entry[], prefix: string): boolean {
  const packed = packedIpv4Prefix(prefix);
  const length = packed % 64;
  const address = (packed - length) / 64;
  // A route starting inside the entry's range and no shorter than the entry lies inside it.
  for (const e of entries) {
    if (address >= e.first && address <= e.last && length >= e.minLength && length <= e.maxLength)
      return e.accept;
  }
  return false;
}

/** "a.b.c.d/n" (the table's canonical text) as address * 64 + n, without allocating. */
function packedIpv4Prefix(text: string): number {
  let address = 0;
  let octet = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2f) break; // '/'
    if (c === 0x2e) {
      address = address * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + c - 0x30;
    }
  }
  address = address * 256 + octet;
  let length = 0;
  for (i++; i < text.length; i++) length = length * 10 + text.charCodeAt(i) - 0x30;
  return address * 64 + length;
}

function matchesIpv6(entries: readonly Ipv6Entry[], prefix: string): boolean {
  if (entries.length === 0) return false;
  const [address = '', lengthText = ''] = prefix.split('/');
  const length = Number(lengthText);
  const words = parseIpv6(address);
  const first = entries.find(
    (e) => length >= e.minLength && length <= e.maxLength && sameLeadingBits(words, e.words, e.length),
  );
  return first?.accept ?? false;
}

function sameLeadingBits(a: Uint32Array, b: Uint32Array, bits: number): boolean {
  for (let word = 0; word < 4 && bits > 0; word++, bits -= 32) {
    const mask = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits);
    if (((a[word]! ^ b[word]!) & mask) !== 0) return false;
  }
  return true;
}
