// An update group: the established peers that share an export profile (same kind of session,
// same export policy, same encoding options), and so would be sent the same UPDATEs. It keeps
// one Adj-RIB-Out for all of them and encodes each batch once. The one way members differ is
// that no path is sent back to the peer it was learned from; those keys are "held back" from
// that member, and a member with held-back changes in a batch gets its own encoding.

import { Afi } from '../packet/constants';
import type { SessionContext } from '../packet/session';
import { encodeAnnouncements, encodeEndOfRib, encodeWithdrawals } from '../packet/update-encode';
import type { Interner } from './interner';
import type { Peer } from './peer';
import { keyFamily, keysToPrefixList, type PrefixKey } from './prefix-key';
import { PrefixTable } from './prefix-table';
import type { ExportedAttributes } from './rules';

/** Action codes for one key in one batch: an export id (≥ 0) to announce, or one of these. */
const WITHDRAW = -1;
const NOTHING = -2;

export type Send = (messages: Buffer) => void;

interface Member {
  readonly peer: Peer;
  readonly send: Send;
  /** This batch's keys whose action for this member differs from the group's. */
  readonly overrides: Map<PrefixKey, number>;
}

export class UpdateGroup {
  readonly members = new Map<number, Member>();
  /** What the group last advertised: prefix → export id (one reference each). */
  readonly out = new PrefixTable(Int32Array);
  /** Keys in `out` not sent to one member, the peer the best path came from. */
  private readonly heldBack = new PrefixTable(Int32Array);
  private readonly announce = new Map<number, PrefixKey[]>();
  private withdraw: PrefixKey[] = [];
  readonly ctx: SessionContext;

  constructor(
    readonly id: number,
    /** The first member: every member is alike in all that export depends on. */
    readonly profile: Peer,
    private readonly exports: Interner<ExportedAttributes>,
  ) {
    this.ctx = {
      fourOctetAs: profile.fourOctetAs,
      extendedMessages: profile.extendedMessages,
      ibgp: profile.ibgp,
    };
  }

  carries(afi: Afi): boolean {
    return afi === Afi.Ipv4 ? this.profile.ipv4 : this.profile.ipv6;
  }

  /**
   * Sets what the group advertises for `key`: export id `exportId` (the caller's reference
   * passes to the group) or nothing (-1), for a best path learned from peer `source`.
   */
  set(key: PrefixKey, exportId: number, source: number): void {
    const old = this.out.get(key) ?? WITHDRAW;
    const oldHeld = this.heldBack.get(key);
    const newHeld = exportId >= 0 && this.members.has(source) ? source : undefined;
    const groupAction = exportId === old ? NOTHING : exportId;
    // A group being filled before its first member joins has no one to send a batch to.
    const queue = this.members.size > 0;
    if (exportId === old) {
      if (exportId >= 0) this.exports.release(exportId);
    } else {
      if (exportId >= 0) {
        this.out.set(key, exportId);
        if (queue) pushTo(this.announce, exportId, key);
      } else {
        this.out.delete(key);
        if (queue) this.withdraw.push(key);
      }
      if (old >= 0) this.exports.release(old);
    }
    if (oldHeld === undefined && newHeld === undefined) return;
    if (newHeld === undefined) this.heldBack.delete(key);
    else this.heldBack.set(key, newHeld);
    for (const index of new Set([oldHeld, newHeld])) {
      const member = index === undefined ? undefined : this.members.get(index);
      if (!member) continue;
      const before = old >= 0 && oldHeld !== index;
      const now = exportId >= 0 && newHeld !== index;
      const action = now ? (before && exportId === old ? NOTHING : exportId) : before ? WITHDRAW : NOTHING;
      if (action !== groupAction) member.overrides.set(key, action);
    }
  }

  /** Encodes the batch and sends it: shared bytes to most members, own bytes to the rest. */
  sendBatch(): void {
    let shared: Buffer | null = null;
    for (const member of this.members.values()) {
      if (member.overrides.size === 0) {
        shared ??= this.encode(this.announce, this.withdraw);
        if (shared.length > 0) member.send(shared);
        continue;
      }
      const announce = new Map<number, PrefixKey[]>();
      for (const [id, keys] of this.announce) {
        const kept = keys.filter((k) => !member.overrides.has(k));
        if (kept.length > 0) announce.set(id, kept);
      }
      const withdraw = this.withdraw.filter((k) => !member.overrides.has(k));
      for (const [key, action] of member.overrides) {
        if (action === WITHDRAW) withdraw.push(key);
        else if (action >= 0) announce.set(action, [...(announce.get(action) ?? []), key]);
      }
      member.overrides.clear();
      const own = this.encode(announce, withdraw);
      if (own.length > 0) member.send(own);
    }
    this.announce.clear();
    this.withdraw = [];
  }

  /**
   * Adds an established peer and sends it the group's whole Adj-RIB-Out, then End-of-RIB.
   * `bestSource` tells which peer each advertised key's best path came from.
   */
  join(peer: Peer, send: Send, bestSource: (key: PrefixKey) => number): void {
    this.members.set(peer.index, { peer, send, overrides: new Map() });
    for (const key of this.out.keys()) if (bestSource(key) === peer.index) this.heldBack.set(key, peer.index);
    this.resend(peer.index, true);
  }

  /** Sends a member everything advertised to it again (for its ROUTE-REFRESH, or on joining). */
  resend(index: number, endOfRib: boolean): void {
    const member = this.members.get(index);
    if (!member) throw new Error(`peer ${index} is not in update group ${this.id}`);
    const announce = new Map<number, PrefixKey[]>();
    for (const [key, id] of this.advertisedTo(index)) pushTo(announce, id, key);
    const parts = [this.encode(announce, [])];
    if (endOfRib && member.peer.ipv4) parts.push(encodeEndOfRib({ afi: Afi.Ipv4, safi: 1 }));
    if (endOfRib && member.peer.ipv6) parts.push(encodeEndOfRib({ afi: Afi.Ipv6, safi: 1 }));
    const messages = Buffer.concat(parts);
    if (messages.length > 0) member.send(messages);
  }

  leave(index: number): void {
    this.members.delete(index);
    for (const [key, held] of this.heldBack) if (held === index) this.heldBack.delete(key);
  }

  /** Releases the Adj-RIB-Out, for a group whose last member left. */
  clear(): void {
    for (const [, id] of this.out) this.exports.release(id);
    this.out.clear();
    this.heldBack.clear();
  }

  /** The Adj-RIB-Out as seen by one member: prefix → export id. */
  *advertisedTo(index: number): IterableIterator<[PrefixKey, number]> {
    for (const entry of this.out) if (this.heldBack.get(entry[0]) !== index) yield entry;
  }

  private encode(announce: ReadonlyMap<number, PrefixKey[]>, withdraw: readonly PrefixKey[]): Buffer {
    const parts: Buffer[] = [];
    const v4 = withdraw.filter((k) => typeof k === 'number');
    const v6 = withdraw.filter((k) => typeof k === 'string');
    if (v4.length > 0) parts.push(encodeWithdrawals(keysToPrefixList(Afi.Ipv4, v4), this.ctx));
    if (v6.length > 0) parts.push(encodeWithdrawals(keysToPrefixList(Afi.Ipv6, v6), this.ctx));
    for (const [id, keys] of announce) {
      const { attributes, mpNextHop } = this.exports.get(id);
      const prefixes = keysToPrefixList(keyFamily(keys[0]!), keys);
      parts.push(
        encodeAnnouncements({ attributes, prefixes, ...(mpNextHop ? { mpNextHop } : {}) }, this.ctx),
      );
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

function pushTo(lists: Map<number, PrefixKey[]>, id: number, key: PrefixKey): void {
  const keys = lists.get(id);
  if (keys) keys.push(key);
  else lists.set(id, [key]);
}
