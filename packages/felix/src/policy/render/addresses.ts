// Addresses go into rule text (`-s 10.0.0.5/32`); a malformed one would make iptables-restore
// reject the whole table, so they are checked while rendering, with a message saying where.

import { parseIp } from '@margay/api';

/** Returns the IP version of an address or CIDR, or throws naming `where`. */
export function checkCidr(where: string, text: string): 4 | 6 {
  const [ip, length, extra] = text.split('/');
  const parsed = ip === undefined ? undefined : parseIp(ip);
  const bits = parsed?.version === 6 ? 128 : 32;
  const lengthOk = length === undefined || (/^\d+$/.test(length) && Number(length) <= bits);
  if (parsed === undefined || !lengthOk || extra !== undefined) {
    throw new Error(`${where}: ${JSON.stringify(text)} is not an IP address or CIDR`);
  }
  return parsed.version;
}
