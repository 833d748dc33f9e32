// Text <-> integer forms of IP addresses. The codec keeps IPv4 addresses as uint32 numbers and
// IPv6 addresses as four uint32 words (most significant first); these helpers are for
// configuration, tests and logs, not for the hot path.

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** "192.0.2.1" → 0xc0000201. Throws on anything else (leading zeros and out-of-range octets included). */
export function parseIpv4(text: string): number {
  const m = IPV4.exec(text);
  if (!m) throw new Error(`"${text}" is not an IPv4 address`);
  let addr = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    const octet = Number(part);
    if (octet > 255 || (part.length > 1 && part.startsWith('0'))) {
      throw new Error(`"${text}" is not an IPv4 address (octet "${part}")`);
    }
    addr = addr * 256 + octet;
  }
  return addr;
}

export function formatIpv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** "2001:db8::1" → [0x20010db8, 0, 0, 1]. Accepts :: compression and a trailing dotted quad. */
export function parseIpv6(text: string): Uint32Array {
  const fail = (): never => {
    throw new Error(`"${text}" is not an IPv6 address`);
  };
  const halves = text.split('::');
  if (halves.length > 2) fail();
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    const fields = part.split(':');
    fields.forEach((field, i) => {
      if (i === fields.length - 1 && field.includes('.')) {
        const v4 = parseIpv4(field);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(field)) {
        out.push(Number.parseInt(field, 16));
      } else {
        fail();
      }
    });
    return out;
  };
  let head: number[] = [];
  let tail: number[] = [];
  try {
    head = groups(halves[0]!);
    tail = halves.length === 2 ? groups(halves[1]!) : [];
  } catch {
    fail();
  }
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) fail();
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((all[2 * i]! << 16) | all[2 * i + 1]!) >>> 0;
  return words;
}

/** RFC 5952 text form: lower case, the longest run of two or more zero groups shown as "::". */
export function formatIpv6(words: ArrayLike<number>, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = words[offset + i]!;
    groups.push(w >>> 16, w & 0xffff);
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
