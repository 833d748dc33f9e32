// zod building blocks shared by the resource schemas. Each one gives a message that says what is
// allowed, and normalises what it accepts to one canonical form (numbers as numbers, CIDRs in
// their shortest form, protocol names in Calico's spelling).

import { z } from 'zod';
import {
  dnsLabelProblem,
  dnsSubdomainProblem,
  labelKeyProblem,
  labelValueProblem,
  portNameProblem,
} from '../names';
import {
  addressBits,
  type Cidr,
  formatCidr,
  formatIp,
  type IpVersion,
  isMasked,
  networkOf,
  parseCidr,
  parseIp,
} from '../net';
import { parseSelector } from '../selector/parse';

/** A strict object: unknown fields are errors, with a suggestion when a known field is close. */
export function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? unknownFieldsMessage(issue.keys, known) : undefined,
  });
}

function unknownFieldsMessage(keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((key) => {
      const close = known.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
      const hint = close ? `did you mean "${close}"?` : `allowed: ${known.join(', ')}`;
      return `unknown field "${key}" (${hint})`;
    })
    .join('; ');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

export function oneOf<const Values extends readonly [string, ...string[]]>(values: Values) {
  return z.enum(values, {
    error: (issue) =>
      issue.input === undefined
        ? `required: one of ${values.join(', ')}`
        : `must be one of ${values.join(', ')} (got ${JSON.stringify(issue.input)})`,
  });
}

/** A string accepted when `problem` finds nothing wrong with it. */
export function checkedString(problem: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  });
}

/** A value parsed by `parse`, which returns the canonical value or throws a message. */
function parsedFrom<In, Out>(base: z.ZodType<In>, parse: (value: In) => Out) {
  return base.transform((value, ctx): Out => {
    try {
      return parse(value);
    } catch (error) {
      if (!(error instanceof InvalidValue)) throw error;
      ctx.issues.push({ code: 'custom', message: error.message, input: value });
      return z.NEVER;
    }
  });
}

class InvalidValue extends Error {}

function invalid(message: string): never {
  throw new InvalidValue(message);
}

export function intInRange(min: number, max: number) {
  return z.number().superRefine((value, ctx) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      ctx.addIssue({ code: 'custom', message: `must be an integer from ${min} to ${max} (got ${value})` });
    }
  });
}

const numberOrString = (what: string) => z.union([z.number(), z.string()], { error: `must be ${what}` });

export const resourceName = checkedString(dnsSubdomainProblem);
export const namespaceName = checkedString(dnsLabelProblem);

export const labels = z.record(z.string(), z.string()).superRefine((record, ctx) => {
  for (const [key, value] of Object.entries(record)) {
    const message = labelKeyProblem(key) ?? labelValueProblem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, path: [key] });
  }
});

export const annotations = z.record(z.string(), z.string()).superRefine((record, ctx) => {
  for (const key of Object.keys(record)) {
    const message = labelKeyProblem(key);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, path: [key] });
  }
});

/** Selector text; kept as written, but it must parse. */
export const selector = z.string().superRefine((text, ctx) => {
  try {
    parseSelector(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

function requireMasked(text: string, cidr: Cidr): Cidr {
  if (!isMasked(cidr)) {
    invalid(`"${text}" is not masked (host bits are set): did you mean ${formatCidr(networkOf(cidr))}?`);
  }
  return cidr;
}

function parseCidrOrThrow(text: string): Cidr {
  const cidr = parseCidr(text);
  return typeof cidr === 'string' ? invalid(cidr) : cidr;
}

/** A masked network CIDR, e.g. an IP pool. Output in canonical form. */
export const cidr = parsedFrom(z.string(), (text) => formatCidr(requireMasked(text, parseCidrOrThrow(text))));

/** A network for policy rules: a masked CIDR or a bare address (meaning /32 or /128). */
export const net = parsedFrom(z.string(), (text) => {
  const ip = text.includes('/') ? undefined : parseIp(text);
  const host = ip && { version: ip.version, address: ip.value, prefixLength: addressBits(ip.version) };
  return formatCidr(host ?? requireMasked(text, parseCidrOrThrow(text)));
});

/** A plain IP address of the given version (or either). Output in canonical form. */
export function ipAddress(version?: IpVersion) {
  return parsedFrom(z.string(), (text) => {
    const ip = parseIp(text);
    if (!ip || (version !== undefined && ip.version !== version)) {
      invalid(`${JSON.stringify(text)} is not an IPv${version ?? '4 or IPv6'} address`);
    }
    return formatIp(ip);
  });
}

/** An interface address with optional prefix length, e.g. a node's `10.0.0.5/24` (host bits kept). */
export function interfaceAddress(version: IpVersion) {
  return parsedFrom(z.string(), (text) => {
    const problem = `${JSON.stringify(text)} is not an IPv${version} address or address/prefix-length`;
    if (!text.includes('/')) {
      const ip = parseIp(text);
      return ip?.version === version ? formatIp(ip) : invalid(problem);
    }
    const parsed = parseCidr(text);
    return typeof parsed === 'object' && parsed.version === version ? formatCidr(parsed) : invalid(problem);
  });
}

const MAX_AS_NUMBER = 4294967295;

/** AS number: plain (`65000`) or asdot (`"1.10"` = 1 * 65536 + 10). Output as a number. */
export const asNumber = parsedFrom(numberOrString('an AS number (65000 or "1.10")'), (value) => {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      invalid(`${value} is not an AS number; write asdot notation as a quoted string, e.g. "1.10"`);
    }
    if (value < 1 || value > MAX_AS_NUMBER) invalid(`must be from 1 to ${MAX_AS_NUMBER} (got ${value})`);
    return value;
  }
  const asdot = /^(\d{1,5})\.(\d{1,5})$/.exec(value);
  let asn = Number.NaN;
  if (/^\d+$/.test(value)) asn = Number(value);
  else if (asdot && Number(asdot[1]) <= 65535 && Number(asdot[2]) <= 65535) {
    asn = Number(asdot[1]) * 65536 + Number(asdot[2]);
  }
  if (!(asn >= 1 && asn <= MAX_AS_NUMBER)) {
    invalid(`${JSON.stringify(value)} is not an AS number from 1 to ${MAX_AS_NUMBER} or asdot "1.10"`);
  }
  return asn;
});

/** A port (1-65535, output as a number), a range "from:to", or a port name (both output as text). */
export const port = parsedFrom(numberOrString('a port number, range "from:to" or port name'), (value) => {
  const checkNumber = (n: number): number =>
    Number.isInteger(n) && n >= 1 && n <= 65535 ? n : invalid(`port must be from 1 to 65535 (got ${n})`);
  if (typeof value === 'number') return checkNumber(value);
  if (/^\d+$/.test(value)) return checkNumber(Number(value));
  const range = /^(\d+):(\d+)$/.exec(value);
  if (range) {
    const [from, to] = [checkNumber(Number(range[1])), checkNumber(Number(range[2]))];
    return from <= to ? `${from}:${to}` : invalid(`port range "${value}" has its start after its end`);
  }
  const problem = portNameProblem(value);
  return problem === undefined ? value : invalid(problem);
});

export type Port = z.output<typeof port>;

export const PROTOCOL_NAMES = ['TCP', 'UDP', 'ICMP', 'ICMPv6', 'SCTP', 'UDPLite'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];
/** A protocol by name or by IP protocol number. */
export type Protocol = ProtocolName | number;

/** Names are accepted in any case and output in Calico's spelling; numbers 1-255. */
export const protocol = parsedFrom(
  numberOrString(`a protocol (${PROTOCOL_NAMES.join(', ')} or a number 1-255)`),
  (value): Protocol => {
    if (typeof value === 'number' || /^\d+$/.test(value)) {
      const number = Number(value);
      if (Number.isInteger(number) && number >= 1 && number <= 255) return number;
      return invalid(`protocol number must be from 1 to 255 (got ${number})`);
    }
    const name = PROTOCOL_NAMES.find((p) => p.toLowerCase() === value.toLowerCase());
    return name ?? invalid(`must be one of ${PROTOCOL_NAMES.join(', ')} or a number 1-255 (got "${value}")`);
  },
);

export const macAddress = checkedString((text) =>
  /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)
    ? undefined
    : `${JSON.stringify(text)} is not a MAC address`,
);

/** A Go duration as Calico writes them: `90s`, `1m30s`, `500ms`, `0s`. */
export const duration = checkedString((text) =>
  /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(text) || text === '0'
    ? undefined
    : `${JSON.stringify(text)} is not a duration (examples: 90s, 1m30s, 500ms)`,
);

/** Reference to a key in a Kubernetes secret. */
export const secretKeyRef = strictObject({
  secretKeyRef: strictObject({
    name: resourceName,
    key: z.string().min(1),
    optional: z.boolean().optional(),
  }),
});
