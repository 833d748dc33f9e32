// What the tester sends: N unique IPv4 /32s counted up from 100.0.0.0 (as bgperf generates them),
// encoded into UPDATEs once, before the clock starts, so the timed part is only socket writes.

import { Afi, asSequence, buildAttributes, encodeAnnouncements, type SessionContext } from '@margay/bgp';

/** 100.0.0.0: the first prefix; route i is FIRST_PREFIX + i. */
export const FIRST_PREFIX = 0x64000000;
/** 198.51.100.1 (TEST-NET-2): outside 127/8, which GoBGP and FRR refuse as a next hop. */
export const TESTER_NEXT_HOP = 0xc6336401;
/** Largest N: the /32s must stay inside 100.0.0.0/8's neighbourhood without wrapping. */
export const MAX_ROUTES = 16_000_000;

export interface WorkloadSpec {
  routes: number;
  /** Prefixes per UPDATE (500 fits a 4096-octet message; 809 is the most that does). */
  perUpdate: number;
  /** Distinct attribute sets, used round-robin per UPDATE (they differ in one community). */
  attributeSets: number;
  /** The tester's AS: on eBGP it is the AS_PATH; on iBGP (tester in the daemon's AS) the path is empty. */
  testerAs: number;
  ibgp: boolean;
}

export interface Workload {
  /** All UPDATEs back to back. */
  bytes: Buffer;
  updates: number;
}

export function checkWorkload(spec: WorkloadSpec): void {
  const wholeInRange = (value: number, min: number, max: number) =>
    Number.isInteger(value) && value >= min && value <= max;
  if (!wholeInRange(spec.routes, 1, MAX_ROUTES))
    throw new Error(`routes: ${spec.routes} is not a whole number in 1..${MAX_ROUTES}`);
  if (!wholeInRange(spec.perUpdate, 1, 800))
    throw new Error(`perUpdate: ${spec.perUpdate} is not a whole number in 1..800`);
  if (!wholeInRange(spec.attributeSets, 1, 65_535))
    throw new Error(`attributeSets: ${spec.attributeSets} is not a whole number in 1..65535`);
}

export function buildWorkload(spec: WorkloadSpec): Workload {
  checkWorkload(spec);
  const ctx: SessionContext = { fourOctetAs: true, extendedMessages: false, ibgp: spec.ibgp };
  const attributeSets = Array.from({ length: spec.attributeSets }, (_, set) =>
    buildAttributes(
      {
        origin: 0,
        asPath: spec.ibgp ? undefined : asSequence([spec.testerAs]),
        nextHop: TESTER_NEXT_HOP,
        localPref: spec.ibgp ? 100 : null,
        // One attribute set has no community, so the packed case carries the plainest attributes.
        communities: spec.attributeSets > 1 ? [(spec.testerAs & 0xffff) * 0x10000 + set] : null,
      },
      ctx,
    ),
  );
  const words = new Uint32Array(spec.routes);
  for (let i = 0; i < spec.routes; i++) words[i] = FIRST_PREFIX + i;
  const lengths = new Uint8Array(spec.routes).fill(32);
  const messages: Buffer[] = [];
  for (let start = 0, update = 0; start < spec.routes; start += spec.perUpdate, update++) {
    const end = Math.min(start + spec.perUpdate, spec.routes);
    const prefixes = {
      afi: Afi.Ipv4,
      words: words.subarray(start, end),
      lengths: lengths.subarray(start, end),
    };
    messages.push(
      encodeAnnouncements({ attributes: attributeSets[update % spec.attributeSets]!, prefixes }, ctx),
    );
  }
  return { bytes: Buffer.concat(messages), updates: messages.length };
}
