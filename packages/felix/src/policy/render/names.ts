// Chain names. iptables allows at most 28 characters, and the Table accepts only letters, digits
// and `_.:+-`. Ids (`<ns>/<name>`, DNS names) are written with `/` as `:` (which no id contains, so
// this stays one-to-one). Ids that do not fit, or hold other characters, keep a readable head and
// end in `_` plus a hash of the whole id; a verbatim name never contains `_`, so distinct ids always
// get distinct names and the same id always the same name.

import type { Direction } from './errors';
import { sha256 } from './hash';
import { TextMemo } from './memo';

export const MAX_CHAIN_NAME_LENGTH = 28;
const HASH_LENGTH = 10;
const VERBATIM = /^[A-Za-z0-9./-]+$/;

/**
 * Names by id, in one memo per length and prefix (a handful: the callers' prefixes are constants),
 * so a lookup builds no key: a start asks for a name about 10,000 times.
 */
const memos = new Map<number, Map<string, TextMemo<string>>>();
/** Bounds the lengths and prefixes remembered, should callers ever pass ones of their own making. */
const MAX_SCOPES = 64;

export function lengthLimitedName(prefix: string, id: string, max = MAX_CHAIN_NAME_LENGTH): string {
  const memo = memos.get(max)?.get(prefix) ?? newMemo(prefix, max);
  return memo.find(id) ?? memo.remember(id, computeName(prefix, id, max));
}

function newMemo(prefix: string, max: number): TextMemo<string> {
  let byPrefix = memos.get(max);
  if (byPrefix === undefined) {
    if (memos.size >= MAX_SCOPES) memos.clear();
    byPrefix = new Map();
    memos.set(max, byPrefix);
  }
  if (byPrefix.size >= MAX_SCOPES) byPrefix.clear();
  const memo = new TextMemo<string>();
  byPrefix.set(prefix, memo);
  return memo;
}

function computeName(prefix: string, id: string, max: number): string {
  const readable = id.replaceAll('/', ':');
  if (VERBATIM.test(id) && prefix.length + id.length <= max) return prefix + readable;
  const hash = sha256(id, 'hex').slice(0, HASH_LENGTH);
  const room = max - prefix.length - HASH_LENGTH - 1;
  if (room < 0) throw new Error(`chain prefix ${JSON.stringify(prefix)} leaves no room for a name`);
  const head = readable.replace(/[^A-Za-z0-9.:-]/g, '-').slice(0, room);
  return `${prefix}${head}_${hash}`;
}

export function policyChainName(direction: Direction, id: string): string {
  return lengthLimitedName(direction === 'ingress' ? 'mg-pi-' : 'mg-po-', id);
}

export function profileChainName(direction: Direction, id: string): string {
  return lengthLimitedName(direction === 'ingress' ? 'mg-pri-' : 'mg-pro-', id);
}

/** `mg-tw-<iface>` checks traffic to the workload (its ingress policy); `mg-fw-` traffic from it. */
export function workloadChainName(direction: Direction, interfaceName: string): string {
  return lengthLimitedName(direction === 'ingress' ? 'mg-tw-' : 'mg-fw-', interfaceName);
}

export function hostEndpointChainName(direction: Direction, interfaceName: string): string {
  return lengthLimitedName(direction === 'ingress' ? 'mg-fh-' : 'mg-th-', interfaceName);
}

export const CHAIN = {
  forward: 'mg-FORWARD',
  input: 'mg-INPUT',
  output: 'mg-OUTPUT',
  toWorkloadDispatch: 'mg-to-wl-dispatch',
  fromWorkloadDispatch: 'mg-from-wl-dispatch',
  workloadToHost: 'mg-wl-to-host',
  fromHostEndpoint: 'mg-from-host-endpoint',
  toHostEndpoint: 'mg-to-host-endpoint',
  failsafeIn: 'mg-failsafe-in',
  failsafeOut: 'mg-failsafe-out',
  natOutgoing: 'mg-nat-outgoing',
} as const;

/** Workload veths are `mg<hash>` (see @margay/cni); every interface with the prefix is ours. */
export const DEFAULT_INTERFACE_PREFIX = 'mg';
