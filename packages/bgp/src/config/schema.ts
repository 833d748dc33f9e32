// The margay-bgpd configuration file: its schema, defaults and the checks that need more than
// one field (RFC 8212 policy defaults, route reflector clients being iBGP, next hops).

import { isIP, isIPv4 } from 'node:net';
import { z } from 'zod';
import { Afi } from '../packet/constants';
import { checkPrefix } from './prefix';

const MAX_AS = 4294967295;

/** The message for a missing value or one of the wrong type. */
const expected = (what: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`),
});

const asNumber = z
  .number(expected('a number'))
  .int({ error: 'must be an integer' })
  .min(1, { error: `must be 1..${MAX_AS}` })
  .max(MAX_AS, { error: `must be 1..${MAX_AS}` });

const ipAddress = z.string(expected('an IP address')).refine((s) => isIP(s) !== 0, {
  error: (issue) => `${JSON.stringify(issue.input)} is not an IP address`,
});

const ipv4Address = z.string(expected('an IPv4 address')).refine((s) => isIPv4(s), {
  error: (issue) => `${JSON.stringify(issue.input)} is not a dotted IPv4 address`,
});

const port = z
  .number(expected('a TCP port'))
  .int({ error: 'must be an integer' })
  .min(0, { error: 'must be 0..65535' })
  .max(65535, { error: 'must be 0..65535' });

const seconds = (min: number, max: number) =>
  z
    .number(expected('a number of seconds'))
    .int({ error: 'must be a whole number of seconds' })
    .min(min, { error: `must be ${min}..${max} seconds` })
    .max(max, { error: `must be ${min}..${max} seconds` });

const prefix = z.string(expected('a prefix')).superRefine((text, ctx) => {
  const checked = checkPrefix(text);
  if ('problem' in checked) ctx.addIssue({ code: 'custom', message: checked.problem });
});

const prefixLength = z
  .number(expected('a prefix length'))
  .int({ error: 'must be an integer' })
  .min(0, { error: 'must be 0..128' })
  .max(128, { error: 'must be 0..128' });

/**
 * BIRD/FRR semantics: routes inside `prefix` whose length is in [ge ?? its length, le ?? its
 * length]. `action: 'reject'` carves a range out of a wider entry listed after it.
 */
const prefixListEntry = z
  .strictObject({
    prefix,
    ge: prefixLength.optional(),
    le: prefixLength.optional(),
    action: z.enum(['accept', 'reject'], { error: 'must be "accept" or "reject"' }).optional(),
  })
  .superRefine((entry, ctx) => {
    const checked = checkPrefix(entry.prefix);
    if ('problem' in checked) return; // already reported on `prefix`
    const length = Number(entry.prefix.split('/')[1]);
    const max = checked.afi === Afi.Ipv4 ? 32 : 128;
    const ge = entry.ge ?? length;
    if (entry.ge !== undefined && (ge < length || ge > max)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ge'],
        message: `must be ${length}..${max} for ${entry.prefix}`,
      });
    } else if (entry.le !== undefined && (entry.le < ge || entry.le > max)) {
      ctx.addIssue({ code: 'custom', path: ['le'], message: `must be ${ge}..${max} for ${entry.prefix}` });
    }
  });

const prefixListPolicy = z.strictObject({
  prefixes: z.array(prefixListEntry, expected('a list of prefix entries')).min(1, {
    error: 'must list at least one prefix (use "none" to match nothing)',
  }),
  action: z.literal('accept', { error: 'must be "accept"' }).default('accept'),
});

const policyName = z.enum(['all', 'none'], { error: 'must be "all", "none" or { prefixes: [...] }' });

/** Chosen by shape rather than z.union, so that a bad prefix list reports its own fields. */
const policy = z.unknown().transform((input, ctx): PolicyConfig => {
  const schema = typeof input === 'object' && input !== null ? prefixListPolicy : policyName;
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues)
    ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  return z.NEVER;
});
const family = z.enum(['ipv4', 'ipv6'], { error: 'must be "ipv4" or "ipv6"' });

const hostPort = z.string(expected('HOST:PORT')).superRefine((text, ctx) => {
  if (!parseHostPort(text))
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is not HOST:PORT` });
});

const peerSchema = z.strictObject({
  address: ipAddress,
  asNumber,
  port: port.optional(),
  localAddress: ipAddress.optional(),
  passive: z.boolean().default(false),
  holdTime: z
    .number(expected('a number of seconds'))
    .int({ error: 'must be a whole number of seconds' })
    .refine((t) => t === 0 || (t >= 3 && t <= 65535), { error: 'must be 0 or 3..65535 seconds' })
    .default(90),
  /** Checked against holdTime only: the session sends keepalives every third of the negotiated hold time. */
  keepaliveTime: seconds(1, 21845).optional(),
  connectRetryTime: seconds(1, 65535).default(120),
  /**
   * Delay before reconnecting after a failure (doubling up to 120 s on repeated failures).
   * Fractions allowed: a peer whose speaker is still starting refuses the first connection, and
   * the next attempt should not wait whole seconds for it.
   */
  idleHoldTime: z
    .number(expected('a number of seconds'))
    .min(0.1, { error: 'must be 0.1..120 seconds' })
    .max(120, { error: 'must be 0.1..120 seconds' })
    .default(5),
  /** Accepted for Calico parity; Node cannot set a TCP socket's TTL, so sessions always use the system default (64). */
  multihop: z.boolean().default(false),
  nextHopSelf: z.boolean().default(false),
  routeReflectorClient: z.boolean().default(false),
  /** Free text for operators (e.g. "node-to-node mesh"), shown by the API; changing it keeps the session. */
  description: z
    .string(expected('a string'))
    .max(200, { error: 'must be at most 200 characters' })
    .optional(),
  gracefulRestart: z.strictObject({ restartTime: seconds(0, 4095) }).optional(),
  families: z.array(family).min(1, { error: 'must name at least one family' }).default(['ipv4', 'ipv6']),
  import: policy.optional(),
  export: policy.optional(),
});

const fileSchema = z.strictObject({
  asNumber,
  routerId: ipv4Address.refine((s) => s !== '0.0.0.0', { error: 'must not be 0.0.0.0' }),
  listen: z
    .union([z.literal(false), z.strictObject({ address: ipAddress, port: port.default(179) })], {
      error: 'must be { address, port } or false',
    })
    .default({ address: '0.0.0.0', port: 179 }),
  api: z.union([z.literal(false), hostPort]).default('127.0.0.1:50151'),
  nextHop: z.strictObject({ ipv4: ipv4Address.optional(), ipv6: ipAddress.optional() }).default({}),
  originate: z.array(prefix).default([]),
  peers: z.array(peerSchema).default([]),
  routeReflector: z.strictObject({ clusterId: ipv4Address.optional() }).optional(),
  gracefulRestart: z
    .strictObject({
      restartTime: seconds(0, 4095).default(120),
      preserveForwarding: z.boolean().default(false),
    })
    .optional(),
  /** Kernel routing table and rtnetlink protocol (77: bgp in rt_protos) of installed routes. */
  fib: z
    .strictObject({
      enabled: z.boolean().default(false),
      table: z.number().int().min(1, { error: 'must be 1..4294967295' }).max(MAX_AS).default(254),
      protocol: z
        .number()
        .int()
        .min(0, { error: 'must be 0..255' })
        .max(255, { error: 'must be 0..255' })
        .default(77),
    })
    .default({ enabled: false, table: 254, protocol: 77 }),
  logLevel: z
    .enum(['debug', 'info', 'warn', 'error'], { error: 'must be debug, info, warn or error' })
    .default('info'),
});

type FileConfig = z.infer<typeof fileSchema>;
type FilePeer = z.infer<typeof peerSchema>;

export type LogLevel = FileConfig['logLevel'];
export type Family = z.infer<typeof family>;

export type PrefixListEntry = z.infer<typeof prefixListEntry>;
/** The first entry that matches a route decides (accept unless it says reject); no match rejects. */
export type PrefixListPolicy = z.infer<typeof prefixListPolicy>;
export type PolicyConfig = z.infer<typeof policyName> | PrefixListPolicy;

/** One neighbor with every default filled in, including the RFC 8212 policies. */
export interface PeerSettings extends Omit<FilePeer, 'import' | 'export'> {
  readonly import: PolicyConfig;
  readonly export: PolicyConfig;
}

export interface DaemonConfig extends Omit<FileConfig, 'peers' | 'nextHop'> {
  readonly peers: readonly PeerSettings[];
  /** Next hops of our own and next-hop-self routes. */
  readonly nextHop: { readonly ipv4: string; readonly ipv6: string };
}

export class ConfigError extends Error {
  override name = 'ConfigError';

  /** `problems`: one line each, "where: what is wrong". */
  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}

export function parseHostPort(text: string): { host: string; port: number } | null {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (!host || port > 65535 || (match?.[1] !== undefined && isIP(host) !== 6)) return null;
  return { host, port };
}

/** `peers[1].asNumber` from ['peers', 1, 'asNumber']. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out || '(top level)';
}

/** Validates a parsed document; errors are prefixed with `source` (the file name). */
export function validateConfig(document: unknown, source: string): DaemonConfig {
  const parsed = fileSchema.safeParse(document ?? {});
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${source}: ${formatPath(i.path)}: ${i.message}`));
  }
  const file = parsed.data;
  const problems: string[] = [];
  const seen = new Set<string>();
  const peers = file.peers.map((peer, n): PeerSettings => {
    const where = `${source}: peers[${n}]`;
    if (seen.has(peer.address)) problems.push(`${where}.address: ${peer.address} is configured twice`);
    seen.add(peer.address);
    const ibgp = peer.asNumber === file.asNumber;
    if (peer.routeReflectorClient && !ibgp) {
      problems.push(`${where}.routeReflectorClient: only an iBGP peer (AS ${file.asNumber}) can be a client`);
    }
    if (peer.keepaliveTime !== undefined && peer.keepaliveTime * 3 > peer.holdTime) {
      problems.push(`${where}.keepaliveTime: must be at most a third of holdTime (${peer.holdTime})`);
    }
    // RFC 8212: nothing crosses an eBGP session unless a policy says so.
    const fallback = ibgp ? 'all' : 'none';
    return { ...peer, import: peer.import ?? fallback, export: peer.export ?? fallback };
  });
  const listenV4 = file.listen && isIPv4(file.listen.address) && file.listen.address !== '0.0.0.0';
  const ipv4 = file.nextHop.ipv4 ?? (listenV4 && file.listen ? file.listen.address : file.routerId);
  // Without an IPv6 address of our own, an IPv4-mapped one carries IPv6 routes over IPv4 sessions.
  const ipv6 = file.nextHop.ipv6 ?? `::ffff:${ipv4}`;
  if (isIPv4(ipv6)) problems.push(`${source}: nextHop.ipv6: ${ipv6} is not an IPv6 address`);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...file, peers, nextHop: { ipv4, ipv6 } };
}
