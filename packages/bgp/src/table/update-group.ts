// An update group: the established peers that share an export profile (same kind of session,
// same export policy, same encoding options), and so would be sent the same UPDATEs. It keeps
// one Adj-RIB-Out for all of them and encodes each batch once. The one way members differ is
// that no path is sent back to the peer it was learned from, so a member that is the source of
// a change in a batch gets its own encoding of that batch.

import { Afi } from '../packet/constants';
import type { SessionContext } from '../packet/session';
import { encodeAnnouncements, encodeEndOfRib, encodeWithdrawals } from '../packet/update-encode';
import type { Interner } from './interner';
import type { Peer } from './peer';
import { keyFamily, keysToPrefixList, type PrefixKey } from './prefix-key';
import type { PrefixTable } from './prefix-table';
import type { ExportedAttributes } from './rules';

/** The export id of a key the group does not advertise. */
const WITHDRAW = -1;
/** Not a member index (members are 1 and up): whose view is the group's shared one. */
const NO_MEMBER = -2;

export type Send = (messages: Buffer) => void;

/** The source peer of the best path behind what the group advertises for a key, or WITHDRAW. */
type SourceOf = (key: PrefixKey) => number;

interface Member {
  readonly peer: Peer;
  readonly send: Send;
}

export class UpdateGroup {
  readonly members = new Map<number, Member>();
  /**
   * This batch's changes, one entry per key in parallel arrays: the export id and source
   * before and now. A member never gets a path back from itself, so members that are a
   * source in the batch get their own encoding; the rest share one.
   */
  private batchKeys: PrefixKey[] = [];
  private batchOld: number[] = [];
  private batchOldSource: number[] = [];
  private batchNew: number[] = [];
  private batchNewSource: number[] = [];
  private readonly batchSources = new Set<number>();
  /** The sources set() added to batchSources last (NO_MEMBER: none yet this batch). */
  private lastSource = NO_MEMBER;
  private lastOldSource = NO_MEMBER;
  readonly ctx: SessionContext;

  constructor(
    readonly id: number,
    /** The first member: every member is alike in all that export depends on. */
    readonly profile: Peer,
    private readonly exports: Interner<ExportedAttributes>,
    /** The source of each advertised key as of the last batch (see advertisedTo). */
    private readonly sourceOf: SourceOf,
    /** Empty, to hold what the group last advertised: prefix → export id (one reference each). */
    readonly out: PrefixTable,
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
   * passes to the group) or nothing (-1), for a best path learned from peer `source`; the
   * previous best path came from `oldSource` (-1 if none). `slot`, if not -1, is the key's slot
   * in the key table `out` shares (see PrefixTable.slotOf), for an export id other than -1.
   */
  set(key: PrefixKey, exportId: number, source: number, oldSource: number, slot = -1): void {
    const old = (slot >= 0 ? this.out.at(slot) : this.out.get(key)) ?? WITHDRAW;
    if (exportId === old) {
      if (exportId >= 0) this.exports.release(exportId);
    } else {
      if (exportId < 0) this.out.delete(key);
      else if (slot >= 0) this.out.setAt(slot, exportId);
      else this.out.set(key, exportId);
      if (old >= 0) this.exports.release(old);
    }
    // A group being filled before its first member joins has no one to send a batch to.
    if (this.members.size === 0 || (exportId === old && source === oldSource)) return;
    this.batchKeys.push(key);
    this.batchOld.push(old);
    this.batchOldSource.push(oldSource);
    this.batchNew.push(exportId);
    this.batchNewSource.push(source);
    // Most keys in a batch repeat the previous key's sources: skip the set then.
    if (source !== this.lastSource) {
      this.batchSources.add(source);
      this.lastSource = source;
    }
    if (oldSource !== this.lastOldSource) {
      this.batchSources.add(oldSource);
      this.lastOldSource = oldSource;
    }
  }

  /** Encodes the batch and sends it: shared bytes to most members, own bytes to the rest. */
  sendBatch(): void {
    if (this.batchKeys.length === 0) return;
    let shared: Buffer | null = null;
    for (const [index, member] of this.members) {
      let messages: Buffer;
      if (this.batchSources.has(index)) {
        messages = this.encodeBatchFor(index);
      } else {
        shared ??= this.encodeBatchFor(NO_MEMBER);
        messages = shared;
      }
      if (messages.length > 0) member.send(messages);
    }
    this.batchKeys = [];
    this.batchOld = [];
    this.batchOldSource = [];
    this.batchNew = [];
    this.batchNewSource = [];
    this.batchSources.clear();
    this.lastSource = NO_MEMBER;
    this.lastOldSource = NO_MEMBER;
  }

  /**
   * Adds an established peer and sends it the group's whole Adj-RIB-Out, then End-of-RIB.
   * Call it between batches: `sourceOf` must describe what `out` holds.
   */
  join(peer: Peer, send: Send): void {
    this.members.set(peer.index, { peer, send });
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
  }

  /** Releases the Adj-RIB-Out, for a group whose last member left; the group is done. */
  close(): void {
    this.out.forEach((_, id) => {
      this.exports.release(id);
    });
    this.out.release();
  }

  /** The Adj-RIB-Out as seen by one member (all but the paths it sent us): prefix → export id. */
  *advertisedTo(index: number): IterableIterator<[PrefixKey, number]> {
    for (const entry of this.out) if (this.sourceOf(entry[0]) !== index) yield entry;
  }

  /** The batch as member `index` sees it (NO_MEMBER: as a member that is no source in it). */
  private encodeBatchFor(index: number): Buffer {
    const announce = new Map<number, PrefixKey[]>();
    const withdraw: PrefixKey[] = [];
    const { batchKeys, batchOld, batchOldSource, batchNew, batchNewSource } = this;
    for (let n = 0; n < batchKeys.length; n++) {
      const old = batchOld[n]!;
      const now = batchNew[n]!;
      const had = old >= 0 && batchOldSource[n] !== index;
      if (now >= 0 && batchNewSource[n] !== index) {
        if (!had || now !== old) pushTo(announce, now, batchKeys[n]!);
      } else if (had) {
        withdraw.push(batchKeys[n]!);
      }
    }
    return this.encode(announce, withdraw);
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
