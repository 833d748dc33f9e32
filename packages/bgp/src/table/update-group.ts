// An update group: the established peers that share an export profile (same kind of session,
// same export policy, same encoding options), and so would be sent the same UPDATEs. It keeps
// one Adj-RIB-Out for all of them and encodes each batch once. The one way members differ is
// that no path is sent back to the peer it was learned from, so a member that is the source of
// a change in a batch gets its own encoding of that batch.

import { Afi } from '../packet/constants';
import type { SessionContext } from '../packet/session';
import {
  encodeAnnouncements,
  encodeEndOfRib,
  encodeIpv4Announcements,
  encodeWithdrawals,
} from '../packet/update-encode';
import type { Interner } from './interner';
import { KeyBatch } from './key-batch';
import type { Peer } from './peer';
import { keyFamily, keysToPrefixList, type PrefixKey } from './prefix-key';
import type { PrefixTable } from './prefix-table';
import type { ExportedAttributes } from './rules';

/** The export id of a key the group does not advertise. */
const WITHDRAW = -1;
/** Not a member index (members are 1 and up): whose view is the group's shared one. */
const NO_MEMBER = -2;
/** The batch's columns: export id and source before and now. */
const OLD = 0;
const OLD_SOURCE = 1;
const NEW = 2;
const NEW_SOURCE = 3;

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
   * This batch's changes, one row per key: the export id and source before and now. A member
   * never gets a path back from itself, so members that are a source in the batch get their
   * own encoding; the rest share one.
   */
  private readonly batch = new KeyBatch(4);
  /** A batch of one key, for set(). */
  private readonly oneKey = new KeyBatch(0);
  /** Per batch row, while encoding: its announcement's group (see encodeBatchFor), or -1. */
  private rowGroups = new Int32Array(256);
  /** The batch's IPv4 prefixes by export id, while encoding (reused: a batch's worth of garbage). */
  private words = new Uint32Array(256);
  private lengths = new Uint8Array(256);
  /** Per export id, while encoding: its group in the batch, or -1 (always -1 in between). */
  private groupOfId = new Int32Array(256).fill(-1);
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
    const keys = this.oneKey;
    keys.clear();
    keys.push(key);
    this.setFrom(keys, 0, exportId, source, oldSource, slot);
  }

  /**
   * set() for the key in row `row` of `keys`: the hot path (Rib.flush) passes IPv4 keys, which
   * are doubles, in typed arrays rather than as arguments, which V8 boxes as heap numbers.
   */
  setFrom(keys: KeyBatch, row: number, exportId: number, source: number, oldSource: number, slot = -1): void {
    const old = (slot >= 0 ? this.out.at(slot) : this.out.get(keys.key(row))) ?? WITHDRAW;
    if (exportId === old) {
      if (exportId >= 0) this.exports.release(exportId);
    } else {
      if (exportId < 0) this.out.delete(keys.key(row));
      else if (slot >= 0) this.out.setAt(slot, exportId);
      else this.out.set(keys.key(row), exportId);
      if (old >= 0) this.exports.release(old);
    }
    // A group being filled before its first member joins has no one to send a batch to.
    if (this.members.size === 0 || (exportId === old && source === oldSource)) return;
    const batch = this.batch;
    const batchRow = batch.pushFrom(keys, row);
    batch.set(OLD, batchRow, old);
    batch.set(OLD_SOURCE, batchRow, oldSource);
    batch.set(NEW, batchRow, exportId);
    batch.set(NEW_SOURCE, batchRow, source);
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
    if (this.batch.length === 0) return;
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
    this.batch.clear();
    if (this.rowGroups.length > 1 << 16) this.rowGroups = new Int32Array(256);
    if (this.words.length > 1 << 16) {
      this.words = new Uint32Array(256);
      this.lengths = new Uint8Array(256);
    }
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

  /**
   * The batch as member `index` sees it (NO_MEMBER: as a member that is no source in it).
   * IPv4 announcements are grouped by export id without an array per id: rows are counted
   * per id, then their prefixes written into one buffer, each id's run after the other's.
   */
  private encodeBatchFor(index: number): Buffer {
    const rows = this.batch;
    if (this.rowGroups.length < rows.length) this.rowGroups = new Int32Array(rows.length * 2);
    const rowGroups = this.rowGroups;
    const olds = rows.column(OLD);
    const oldSources = rows.column(OLD_SOURCE);
    const nows = rows.column(NEW);
    const newSources = rows.column(NEW_SOURCE);
    const ids: number[] = [];
    const counts: number[] = [];
    let lastId = WITHDRAW;
    let lastGroup = -1;
    const withdraw: PrefixKey[] = [];
    const v6Announce = new Map<number, PrefixKey[]>();
    for (let n = 0; n < rows.length; n++) {
      rowGroups[n] = -1;
      const old = olds[n]!;
      const now = nows[n]!;
      const had = old >= 0 && oldSources[n] !== index;
      if (now >= 0 && newSources[n] !== index) {
        if (had && now === old) continue;
        if (Number.isNaN(rows.ipv4Key(n))) {
          pushTo(v6Announce, now, rows.key(n));
          continue;
        }
        // Runs of rows share an export id: the last one saves the lookup.
        if (now !== lastId) {
          if (now >= this.groupOfId.length) this.growGroupOfId(now);
          let group = this.groupOfId[now]!;
          if (group < 0) {
            group = ids.length;
            this.groupOfId[now] = group;
            ids.push(now);
            counts.push(0);
          }
          lastId = now;
          lastGroup = group;
        }
        rowGroups[n] = lastGroup;
        counts[lastGroup]!++;
      } else if (had) {
        withdraw.push(rows.key(n));
      }
    }
    // Indexed loops: this runs a few times per batch, often before V8 optimises it, and an
    // unoptimised for-of makes an iterator result per element.
    for (let group = 0; group < ids.length; group++) this.groupOfId[ids[group]!] = -1;
    const parts = this.encodeWithdrawals(withdraw);
    if (ids.length > 0) {
      const next: number[] = [];
      let total = 0;
      for (let group = 0; group < counts.length; group++) {
        next.push(total);
        total += counts[group]!;
      }
      if (this.words.length < total) {
        this.words = new Uint32Array(total * 2);
        this.lengths = new Uint8Array(total * 2);
      }
      const { words, lengths } = this;
      for (let n = 0; n < rows.length; n++) {
        const group = rowGroups[n]!;
        if (group < 0) continue;
        const key = rows.ipv4Key(n);
        const at = next[group]!++;
        const address = Math.floor(key / 64);
        words[at] = address;
        lengths[at] = key - address * 64;
      }
      // After the loop above, next[group] is where the group's run ends.
      const attributes: Buffer[] = [];
      for (let group = 0; group < ids.length; group++)
        attributes.push(this.exports.get(ids[group]!).attributes);
      parts.push(encodeIpv4Announcements(attributes, words, lengths, next, this.ctx));
    }
    if (v6Announce.size > 0) parts.push(this.encode(v6Announce, []));
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }

  private growGroupOfId(id: number): void {
    const grown = new Int32Array(Math.max(id + 1, this.groupOfId.length * 2)).fill(-1);
    grown.set(this.groupOfId);
    this.groupOfId = grown;
  }

  private encodeWithdrawals(withdraw: readonly PrefixKey[]): Buffer[] {
    const parts: Buffer[] = [];
    if (withdraw.length === 0) return parts;
    const v4 = withdraw.filter((k) => typeof k === 'number');
    const v6 = withdraw.filter((k) => typeof k === 'string');
    if (v4.length > 0) parts.push(encodeWithdrawals(keysToPrefixList(Afi.Ipv4, v4), this.ctx));
    if (v6.length > 0) parts.push(encodeWithdrawals(keysToPrefixList(Afi.Ipv6, v6), this.ctx));
    return parts;
  }

  private encode(announce: ReadonlyMap<number, PrefixKey[]>, withdraw: readonly PrefixKey[]): Buffer {
    const parts = this.encodeWithdrawals(withdraw);
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
