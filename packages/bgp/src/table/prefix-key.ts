// Prefixes as map keys. IPv4, the hot family, is a number: address * 64 + length, a safe
// integer that compares and hashes without allocating a string. IPv6 is a short string of
// its four words and length.

import { Afi } from '../packet/constants';
import { formatIpv4, formatIpv6 } from '../packet/ip';
import type { PrefixList } from '../packet/prefixes';

export type PrefixKey = number | string;

/** The key of prefix `index` of `list`. */
export function prefixKey(list: PrefixList, index: number): PrefixKey {
  if (list.afi === Afi.Ipv4) return list.words[index]! * 64 + list.lengths[index]!;
  const w = list.words;
  const base = index * 4;
  return `${w[base]!.toString(16)}:${w[base + 1]!.toString(16)}:${w[base + 2]!.toString(16)}:${w[base + 3]!.toString(16)}/${list.lengths[index]}`;
}

export function keyFamily(key: PrefixKey): Afi {
  return typeof key === 'number' ? Afi.Ipv4 : Afi.Ipv6;
}

function ipv6Words(key: string): { words: number[]; length: number } {
  const [address, length] = key.split('/');
  return { words: address!.split(':').map((w) => Number.parseInt(w, 16)), length: Number(length) };
}

/** "10.0.0.0/24" or "2001:db8::/32". */
export function keyToString(key: PrefixKey): string {
  if (typeof key === 'number') return `${formatIpv4(Math.floor(key / 64))}/${key % 64}`;
  const { words, length } = ipv6Words(key);
  return `${formatIpv6(words)}/${length}`;
}

/** Packs keys of one family into a PrefixList for the encoder. */
export function keysToPrefixList(afi: Afi, keys: readonly PrefixKey[]): PrefixList {
  const lengths = new Uint8Array(keys.length);
  if (afi === Afi.Ipv4) {
    const words = new Uint32Array(keys.length);
    for (let n = 0; n < keys.length; n++) {
      const key = keys[n] as number;
      words[n] = Math.floor(key / 64);
      lengths[n] = key % 64;
    }
    return { afi, lengths, words };
  }
  const words = new Uint32Array(keys.length * 4);
  keys.forEach((key, n) => {
    const parsed = ipv6Words(key as string);
    words.set(parsed.words, n * 4);
    lengths[n] = parsed.length;
  });
  return { afi, lengths, words };
}
