// Kernel names of the IP sets rules refer to. A set is named by a hash of what it holds, so two
// rules (or two policies) using the same selector, nets or named port share one set, and the name
// is the same on every run. Names: `mg4-<kind>-<hash>` (kind s = selector, n = nets, p = named port),
// 28 characters, within ipset's 31.

import type { IpSetSpec, IpSetType } from '@margay/dataplane';
import type { IpSetRef } from '../model';
import { sha256 } from './hash';
import { TextMemo } from './memo';

const KIND_LETTER: Record<IpSetRef['kind'], string> = { selector: 's', nets: 'n', 'named-port': 'p' };
const KIND_TYPE: Record<IpSetRef['kind'], IpSetType> = {
  selector: 'hash:ip',
  nets: 'hash:net',
  'named-port': 'hash:ip,port',
};
const HASH_LENGTH = 22;

export const MAX_IPSET_NAME_LENGTH = 31;

/** A canonical text for what the set holds: nets are a set (order and duplicates do not matter). */
export function ipSetKey(ref: IpSetRef): string {
  switch (ref.kind) {
    case 'selector':
      return `selector\n${ref.selector}`;
    case 'nets':
      return `nets\n${[...new Set(ref.nets)].sort().join('\n')}`;
    case 'named-port':
      return `named-port\n${ref.protocol}\n${ref.port}\n${ref.selector}`;
  }
}

/** Specs by ipSetKey: the key holds the kind, and the spec is a function of the key alone. */
const specs = new TextMemo<IpSetSpec>();
/** Selector sets (nearly all of them) by their selector alone: a lookup builds no key. */
const selectorSpecs = new TextMemo<IpSetSpec>();

export function ipSetSpecFor(ref: IpSetRef): IpSetSpec {
  if (ref.kind === 'selector') {
    return selectorSpecs.find(ref.selector) ?? selectorSpecs.remember(ref.selector, specOf(ref));
  }
  const key = ipSetKey(ref);
  return specs.find(key) ?? specs.remember(key, specOf(ref));
}

function specOf(ref: IpSetRef): IpSetSpec {
  const hash = sha256(ipSetKey(ref), 'base64url').slice(0, HASH_LENGTH);
  return { name: `mg4-${KIND_LETTER[ref.kind]}-${hash}`, type: KIND_TYPE[ref.kind] };
}
