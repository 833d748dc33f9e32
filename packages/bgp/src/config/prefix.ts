// Prefix text as the daemon accepts it: "address/length" with no host bits set, so that what an
// operator writes is exactly what gets announced.

import { isIP } from 'node:net';
import { Afi } from '../packet/constants';
import { prefixList, prefixStrings } from '../packet/prefixes';

/** The family of a valid prefix, or a description of what is wrong with it. */
export function checkPrefix(text: string): { afi: Afi } | { problem: string } {
  const [address = '', length, extra] = text.split('/');
  const family = isIP(address);
  if (family === 0 || length === undefined || extra !== undefined || !/^\d{1,3}$/.test(length)) {
    return { problem: `${JSON.stringify(text)} is not a prefix (address/length)` };
  }
  const afi = family === 4 ? Afi.Ipv4 : Afi.Ipv6;
  if (Number(length) > (family === 4 ? 32 : 128)) {
    return { problem: `${JSON.stringify(text)} has a length above ${family === 4 ? 32 : 128}` };
  }
  const canonical = prefixStrings(prefixList(afi, [text]))[0];
  if (canonical !== normalise(text)) {
    return { problem: `${JSON.stringify(text)} has host bits set (did you mean ${canonical}?)` };
  }
  return { afi };
}

/** The prefix in the table's spelling (lower-case, compressed IPv6); throws on a bad prefix. */
export function canonicalPrefix(text: string): string {
  const checked = checkPrefix(text);
  if ('problem' in checked) throw new Error(checked.problem);
  return prefixStrings(prefixList(checked.afi, [text]))[0]!;
}

function normalise(text: string): string {
  const [address = '', length = ''] = text.split('/');
  if (isIP(address) === 4) return text;
  // Compare IPv6 prefixes by value: the spelling of the address may differ.
  return `${prefixStrings(prefixList(Afi.Ipv6, [`${address}/128`]))[0]!.split('/')[0]}/${length}`;
}
