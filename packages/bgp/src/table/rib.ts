// The routing table: Adj-RIB-In per peer, the Loc-RIB with every path of every prefix and the
// best one, and Adj-RIB-Outs kept per update group.
//
// For speed a path is not an object: it is the number peer * 2^32 + attribute-set id (see
// PEER_FACTOR). In the Loc-RIB a prefix with one path, the common case, maps to just the
// peer (int32), whose Adj-RIB-In holds the attribute set; one with several maps to
// -(slot + 1), the slot in `multiPaths` of an array of paths, best first. The Adj-RIB-Outs
// keep their IPv4 prefixes in the Loc-RIB's key table. Changes mark prefixes dirty; flush()
// then runs export for the whole batch, grouping prefixes by exported attribute set so
// UPDATEs carry many NLRI, and encodes each group's batch once for all its members.

import { type AttributeSetSpec, buildAttributes } from '../packet/attribute-builder';
import { Afi } from '../packet/constants';
import { parseIpv4, parseIpv6 } from '../packet/ip';
import type { PathAttributes } from '../packet/path-attributes';
import { type PrefixList, prefixList } from '../packet/prefixes';
import type { DecodedUpdate } from '../packet/update-decode';
import { attributeKey, pathAttributes, type StoredAttributes, storedAttributes } from './attribute-store';
import { DEFAULT_LOCAL_PREF, type PathView, selectBest } from './decision';
import { ExportCache } from './export-cache';
import { Interner } from './interner';
import { KeyBatch } from './key-batch';
import {
  LOCAL_PEER,
  type LocalConfig,
  localPeer,
  MAX_PEER_INDEX,
  makePeer,
  type Peer,
  type PeerConfig,
  type Policy,
} from './peer';
import { keyFamily, keyToString, type PrefixKey, prefixKey } from './prefix-key';
import { PrefixTable } from './prefix-table';
import { type ExportedAttributes, exportSpec, importRejection, mayExport, type Speaker } from './rules';
import { type Send, UpdateGroup } from './update-group';

/** A path is peer * PEER_FACTOR + attribute-set id: a safe integer, as peer ≤ MAX_PEER_INDEX. */
const PEER_FACTOR = 2 ** 32;
const pathPeer = (path: number): number => Math.floor(path / PEER_FACTOR);
const pathAttributeSet = (path: number): number => path % PEER_FACTOR;
const NONE = -1;
/** dirtyRows' columns. */
const BEFORE = 0;
const AFTER = 1;
const SLOT = 2;
/** In the AFTER column: flush must look the best path up. */
const UNKNOWN = -2;
/** Withdrawals a peer going down flushes at a time (see peerDown). */
const WITHDRAWALS_PER_FLUSH = 16_384;
/** The dirty table is refilled every batch: it keeps its slots (under 1 MB) rather than regrow. */
const DIRTY_RETAINED_SLOTS = 1 << 17;

export interface Route {
  /** "10.0.0.0/24" or "2001:db8::/32". */
  readonly prefix: string;
  /** The peer it was learned from; 0 for a locally originated route. */
  readonly from: number;
  readonly attributes: PathAttributes;
}

export interface BestChange {
  readonly kind: 'added' | 'changed' | 'removed';
  readonly prefix: string;
  /** The new best path; null when removed. */
  readonly best: Route | null;
}

export type ChangeListener = (changes: readonly BestChange[]) => void;

interface PeerState {
  /** Replaced (not mutated) when the import policy changes. */
  peer: Peer;
  /** Accepted paths: prefix → attribute-set id (one reference each). */
  readonly adjIn: PrefixTable;
  /** Graceful restart: paths kept from before the restart and not yet re-announced. */
  stale: Set<PrefixKey> | null;
  group: UpdateGroup | null;
}

export class Rib {
  private readonly speaker: Speaker;
  private readonly local: LocalConfig;
  private readonly peers: (PeerState | undefined)[] = [];
  private readonly exportSets = new Interner<ExportedAttributes>();
  private readonly attributeSets = new Interner<StoredAttributes>((_, id) => this.forgetExports(id));
  /** Decoded attribute objects → the id they were interned under (checked before use: ids are reused). */
  private readonly internedIds = new WeakMap<PathAttributes, number>();
  /**
   * Attribute-set id → (group id, source peer) → export id or NONE, each id holding a
   * reference. Indexed by id (interned ids are small and reused): an array read where a map
   * lookup ran for every change of attribute set.
   */
  private readonly exportCache = new ExportCache();
  /** The exportCache entry exportId read last. */
  private lastExportId = NONE;
  private lastExportSlot = NONE;
  private lastExported = NONE;
  private readonly locRib = new PrefixTable(Int32Array);
  private readonly multiPaths: number[][] = [];
  private readonly freeSlots: number[] = [];
  /** Prefixes changed since the last flush → their row in dirtyRows. */
  private readonly dirty = new PrefixTable(Int32Array, undefined, DIRTY_RETAINED_SLOTS);
  /**
   * The dirty prefixes in the order they changed, with (columns) their best path before the
   * batch (BEFORE); the best path now where the change that made it told, one path or none,
   * else UNKNOWN (AFTER); and their slot in the shared key table where the change knew it,
   * else -1 (SLOT), so that flush reads and writes every column there without a lookup.
   * Flushing in arrival order keeps prefixes that came in one UPDATE, usually adjacent ones,
   * together in the tables' caches.
   */
  private readonly dirtyRows = new KeyBatch(3);
  /** The key table's generation the saved slots belong to (compaction moves keys). */
  private slotsGeneration = -1;
  private readonly groups = new Map<string, UpdateGroup>();
  private readonly policyIds = new Map<Policy, number>();
  private nextGroupId = 0;
  private readonly listeners: ChangeListener[] = [];

  constructor(local: LocalConfig) {
    const self = localPeer(local);
    this.local = local;
    this.speaker = {
      asn: local.asn,
      routerId: local.routerId,
      clusterId: local.clusterId ?? local.routerId,
      nextHopIpv4: parseIpv4(local.nextHopIpv4),
      nextHopIpv6: local.nextHopIpv6 === undefined ? null : wordsToBuffer(parseIpv6(local.nextHopIpv6)),
    };
    this.peers[LOCAL_PEER] = { peer: self, adjIn: this.newAdjRibIn(), stale: null, group: null };
  }

  addPeer(config: PeerConfig): Peer {
    const peer = makePeer(config, this.local);
    if (this.peers[peer.index]) throw new Error(`peer ${peer.index} is already configured`);
    this.peers[peer.index] = { peer, adjIn: this.newAdjRibIn(), stale: null, group: null };
    return peer;
  }

  /**
   * An Adj-RIB-In keeps its IPv4 prefixes in the Loc-RIB's key table, as a column beside the
   * Loc-RIB's: storing a path finds its slot once for both, and one table grows, not two.
   */
  private newAdjRibIn(): PrefixTable {
    return new PrefixTable(Int32Array, this.locRib);
  }

  /**
   * Drops the peer and every path learned from it, and flushes: a peer configured later under
   * this index is another source, whose paths must not compare equal to this one's.
   */
  removePeer(index: number): void {
    this.peerDown(index);
    this.flush();
    this.peers[index]!.adjIn.release();
    this.peers[index] = undefined;
    this.forgetExportsWhere((_, source) => source === index);
  }

  /** Calls `listener` with each flush's best-path changes; returns what unsubscribes it. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /**
   * Applies announcements of one attribute set. Returns why the whole set was rejected
   * (the prefixes are then withdrawn, RFC 7606 style), or null.
   */
  announce(index: number, prefixes: PrefixList, attributes: PathAttributes): string | null {
    const state = this.learnedFrom(index, prefixes.afi);
    const policy = state.peer.importPolicy;
    // A set already interned from this very object passed the checks then: they depend on
    // nothing else (the session's attribute cache hands the same object out again).
    let id = policy === 'none' ? NONE : this.internedFrom(attributes);
    if (id === NONE) {
      const rejection =
        importRejection(attributes, this.speaker) ?? (policy === 'none' ? 'import policy' : null);
      if (rejection !== null) {
        this.withdrawAll(state, prefixes);
        return rejection;
      }
      id = this.attributeSets.intern(attributeKey(attributes), () => storedAttributes(attributes));
      this.internedIds.set(attributes, id);
    } else {
      this.attributeSets.ref(id);
    }
    let references = 0;
    for (let n = 0; n < prefixes.lengths.length; n++) {
      if (typeof policy === 'function') {
        const key = prefixKey(prefixes, n);
        if (!policy({ prefix: keyToString(key), attributes, from: index })) {
          this.removePath(state, key);
          continue;
        }
      }
      // The list and index, not the key: a key passed as an argument is boxed (a heap number).
      if (this.setPath(state, prefixes, n, id)) references++;
    }
    this.attributeSets.ref(id, references);
    this.attributeSets.release(id);
    return null;
  }

  withdraw(index: number, prefixes: PrefixList): void {
    this.withdrawAll(this.learnedFrom(index, prefixes.afi), prefixes);
  }

  /**
   * Applies a decoded UPDATE: withdrawals, then announcements; an End-of-RIB ends the peer's
   * graceful restart for that family, and a disabled family (RFC 7606) loses all the peer's
   * paths of it. Session resets are the caller's to act on.
   */
  applyUpdate(index: number, update: DecodedUpdate): void {
    if (update.disabledFamily) {
      const state = this.configured(index);
      const afi = update.disabledFamily.afi;
      forEachKeyOf(state.adjIn, afi, (key) => this.removePath(state, key));
      return;
    }
    for (const list of update.withdrawn) this.withdraw(index, list);
    if (update.attributes) {
      if (update.announced) this.announce(index, update.announced, update.attributes);
      if (update.mpAnnounced) this.announce(index, update.mpAnnounced, update.attributes);
    }
    if (update.endOfRib) this.endOfRib(index, update.endOfRib.afi);
  }

  /**
   * Originates prefixes of one family with the given attributes, as the local pseudo-peer.
   * The next hop is always ours (nextHopIpv4 / nextHopIpv6); spec.nextHop is ignored.
   */
  originate(prefixes: PrefixList, spec: AttributeSetSpec): void {
    const v4 = prefixes.afi === Afi.Ipv4;
    if (!v4 && !this.speaker.nextHopIpv6) throw new Error('originating IPv6 routes needs nextHopIpv6');
    const nextHop = v4 ? this.speaker.nextHopIpv4 : null;
    const attributes = pathAttributes(
      { ...spec, nextHop, originatorId: null, clusterList: null },
      v4 ? null : this.speaker.nextHopIpv6,
    );
    this.announce(LOCAL_PEER, prefixes, attributes);
  }

  stopOriginating(prefixes: PrefixList): void {
    this.withdraw(LOCAL_PEER, prefixes);
  }

  /**
   * Starts exporting to an established peer: sends it the table, then End-of-RIB. Pending
   * changes are flushed first, so that a new update group starts from the flushed table.
   */
  peerUp(index: number, send: Send): void {
    const state = this.configured(index);
    if (state.group) throw new Error(`peer ${index} is already up`);
    this.flush();
    const key = this.profileKey(state.peer);
    let group = this.groups.get(key);
    if (!group) {
      group = new UpdateGroup(
        this.nextGroupId++,
        state.peer,
        this.exportSets,
        (prefix) => this.flushedSource(prefix),
        // It advertises mostly the Loc-RIB's prefixes: one key table serves both.
        new PrefixTable(Int32Array, this.locRib),
      );
      this.groups.set(key, group);
      for (const prefix of this.locRib.keys()) {
        if (!group.carries(keyFamily(prefix))) continue;
        const best = this.bestPath(prefix);
        group.set(prefix, this.exportFor(best, group, prefix), pathPeer(best), NONE);
      }
    }
    state.group = group;
    group.join(state.peer, send);
  }

  /**
   * The session went down. Without graceful restart its paths are withdrawn; with it they
   * stay, marked stale, until End-of-RIB or sweepStale (the restart timer).
   */
  peerDown(index: number, graceful = false): void {
    const state = this.configured(index);
    const group = state.group;
    if (group) {
      state.group = null;
      group.leave(index);
      if (group.members.size === 0) this.dropGroup(group);
    }
    if (graceful) {
      this.markStale(index);
    } else {
      forEachKeyOf(state.adjIn, undefined, (key) => {
        this.removePath(state, key);
        // A full table going away is exported in bounded batches, not held all at once.
        if (this.dirtyRows.length >= WITHDRAWALS_PER_FLUSH) this.flush();
      });
      state.stale = null;
    }
  }

  /** The peer sent ROUTE-REFRESH: sends it everything advertised to it again. */
  routeRefresh(index: number): void {
    const state = this.configured(index);
    if (!state.group) throw new Error(`peer ${index} is not up`);
    state.group.resend(index, false);
  }

  /**
   * Marks the peer's paths stale, of family `afi` or of all (RFC 4724 restart, RFC 7313 BoRR),
   * to be re-announced or swept.
   */
  markStale(index: number, afi?: number): void {
    const state = this.configured(index);
    const stale = state.stale ?? new Set<PrefixKey>();
    for (const key of state.adjIn.keys()) if (afi === undefined || keyFamily(key) === afi) stale.add(key);
    state.stale = stale;
  }

  /**
   * Applies to what the peer announces from now on. Paths already accepted or rejected are not
   * revisited: the table keeps no rejected paths, so the peer must re-send them (route refresh).
   */
  setImportPolicy(index: number, policy: Policy): void {
    const state = this.configured(index);
    state.peer = { ...state.peer, importPolicy: policy };
  }

  /** End-of-RIB from the peer: its stale paths of that family were not refreshed; remove them. */
  endOfRib(index: number, afi: number): void {
    const state = this.configured(index);
    if (!state.stale) return;
    for (const key of [...state.stale]) if (keyFamily(key) === afi) this.removePath(state, key);
    if (state.stale.size === 0) state.stale = null;
  }

  /** The restart timer expired: removes every stale path of the peer. */
  sweepStale(index: number): void {
    const state = this.configured(index);
    for (const key of [...(state.stale ?? [])]) this.removePath(state, key);
    state.stale = null;
  }

  staleCount(index: number): number {
    return this.configured(index).stale?.size ?? 0;
  }

  /** Prefixes changed since the last flush. */
  get pendingChanges(): number {
    return this.dirtyRows.length;
  }

  /**
   * Exports everything changed since the last flush: updates Adj-RIB-Outs, sends each update
   * group its UPDATEs, then tells change listeners.
   */
  flush(): void {
    const changes: BestChange[] | null = this.listeners.length > 0 ? [] : null;
    const groups = [...this.groups.values()];
    const rows = this.dirtyRows;
    // Flush adds no rows: the columns stay valid through the loop.
    const befores = rows.column(BEFORE);
    const afters = rows.column(AFTER);
    const slots = rows.column(SLOT);
    for (let n = 0; n < rows.length; n++) {
      const key = rows.key(n);
      const before = befores[n]!;
      // The Loc-RIB, the Adj-RIB-Ins and the groups' Adj-RIB-Outs share IPv4 keys: the slot
      // saved when the prefix changed serves them all, unless keys have moved since (removing
      // a path may shrink the key table, so that goes by key).
      let slot = -1;
      if (typeof key === 'number') {
        const saved = slots[n]!;
        slot =
          saved >= 0 && this.locRib.generation === this.slotsGeneration ? saved : this.locRib.slotOf(key);
      }
      let best = afters[n]!;
      if (best === UNKNOWN) {
        const value =
          slot >= 0 ? this.locRib.at(slot) : typeof key === 'number' ? undefined : this.locRib.get(key);
        best =
          value === undefined
            ? NONE
            : value >= 0
              ? this.pathOf(key, value, slot)
              : this.multiPaths[-value - 1]![0]!;
      }
      if (best !== before) {
        const afi = keyFamily(key);
        const oldSource = before === NONE ? NONE : pathPeer(before);
        for (const group of groups) {
          if (!group.carries(afi)) continue;
          if (best === NONE) group.setFrom(rows, n, NONE, NONE, oldSource);
          else {
            // Ids, not the path and key (doubles, boxed when passed): this runs per prefix.
            const source = pathPeer(best);
            let exported = this.exportId(pathAttributeSet(best), source, group);
            if (exported !== NONE && typeof group.profile.exportPolicy === 'function') {
              if (!this.policyExports(group, pathAttributeSet(best), source, key)) exported = NONE;
            }
            if (exported !== NONE) this.exportSets.ref(exported);
            group.setFrom(rows, n, exported, source, oldSource, slot);
          }
        }
        if (changes) {
          const kind = best === NONE ? 'removed' : before === NONE ? 'added' : 'changed';
          changes.push({
            kind,
            prefix: keyToString(key),
            best: best === NONE ? null : this.route(key, best),
          });
        }
      }
      if (before !== NONE) this.attributeSets.release(pathAttributeSet(before));
    }
    this.dirty.clear();
    rows.clear();
    for (const group of groups) group.sendBatch();
    if (changes && changes.length > 0) for (const listener of this.listeners) listener(changes);
  }

  /** The best path of a prefix, as of now (flushed or not). */
  best(prefix: string): Route | null {
    const key = parseKey(prefix);
    const best = this.bestPath(key);
    return best === NONE ? null : this.route(key, best);
  }

  /** Every path of a prefix, best first. */
  paths(prefix: string): Route[] {
    const key = parseKey(prefix);
    const value = this.locRib.get(key);
    if (value === undefined) return [];
    return (value >= 0 ? [this.pathOf(key, value)] : this.multiPaths[-value - 1]!).map((path) =>
      this.route(key, path),
    );
  }

  /** Best paths of every prefix: the Loc-RIB as consumers (FIB sync) see it. */
  *bestRoutes(): IterableIterator<Route> {
    for (const key of this.locRib.keys()) yield this.route(key, this.bestPath(key));
  }

  /** Accepted paths from a peer: prefix → attributes. */
  adjRibIn(index: number): Map<string, PathAttributes> {
    const out = new Map<string, PathAttributes>();
    for (const [key, id] of this.configured(index).adjIn) {
      out.set(keyToString(key), this.attributeSets.get(id).attributes);
    }
    return out;
  }

  /** What was last advertised to a peer: prefix → exported attributes. Empty while it is down. */
  adjRibOut(index: number): Map<string, ExportedAttributes> {
    const out = new Map<string, ExportedAttributes>();
    const group = this.configured(index).group;
    if (group)
      for (const [key, id] of group.advertisedTo(index)) out.set(keyToString(key), this.exportSets.get(id));
    return out;
  }

  /** Sizes, for monitoring and leak checks. */
  stats(): { prefixes: number; attributeSets: number; exportedSets: number; updateGroups: number } {
    return {
      prefixes: this.locRib.size,
      attributeSets: this.attributeSets.size,
      exportedSets: this.exportSets.size,
      updateGroups: this.groups.size,
    };
  }

  private configured(index: number): PeerState {
    const state = Number.isInteger(index) ? this.peers[index] : undefined;
    if (!state) throw new Error(`peer ${index} is not configured`);
    return state;
  }

  private learnedFrom(index: number, afi: Afi): PeerState {
    const state = this.configured(index);
    const peer = state.peer;
    if (afi === Afi.Ipv4 ? !peer.ipv4 : !peer.ipv6) {
      throw new Error(
        `peer ${index} (${peer.address}) has not negotiated ${afi === Afi.Ipv4 ? 'IPv4' : 'IPv6'} unicast`,
      );
    }
    return state;
  }

  private withdrawAll(state: PeerState, prefixes: PrefixList): void {
    for (let n = 0; n < prefixes.lengths.length; n++) this.removePath(state, prefixKey(prefixes, n));
  }

  /**
   * Stores the peer's path for `key`; returns whether it took a new reference on `id`. This
   * runs for every announced prefix: an IPv4 prefix is looked up once, in the key table the
   * Adj-RIB-Ins share with the Loc-RIB, and its slot saved for flush.
   */
  private setPath(state: PeerState, prefixes: PrefixList, n: number, id: number): boolean {
    if (prefixes.afi !== Afi.Ipv4 || state.stale) return this.setPathByKey(state, prefixKey(prefixes, n), id);
    // IPv4 outside a graceful restart: the same as setPathByKey, with only int32s and objects
    // as arguments: a key or path (doubles) passed to a call V8 does not inline gets boxed,
    // a heap number per prefix.
    const address = prefixes.words[n]! | 0;
    const length = prefixes.lengths[n]!;
    const peer = state.peer.index;
    const { adjIn } = state;
    const slot = this.locRib.slotForIpv4(address, length);
    // slotForIpv4 may have taken a slot for a new key: it gets this peer's value before anything else.
    const old = adjIn.at(slot);
    if (old === id) return false;
    adjIn.setAt(slot, id);
    const value = this.locRib.at(slot);
    if (value === undefined) this.locRib.setAt(slot, peer);
    const rows = this.dirtyRows;
    let at = this.dirtyRowIpv4(address, length, slot);
    if (at < 0) {
      at = -at - 1;
      // The best path before the change, as bestBefore finds it.
      const before =
        value === undefined
          ? NONE
          : value < 0
            ? this.multiPaths[-value - 1]![0]!
            : value === peer
              ? peer * PEER_FACTOR + old!
              : value * PEER_FACTOR + this.peers[value]!.adjIn.at(slot)!;
      rows.set(BEFORE, at, before);
      // Held until flush, so the id cannot be reused meanwhile and compare equal by accident.
      if (before !== NONE) this.attributeSets.ref(pathAttributeSet(before));
    }
    const path = peer * PEER_FACTOR + id;
    // Replacing this peer's own one path changes nothing in the Loc-RIB.
    if (value !== undefined && value !== peer)
      this.replacePath(prefixKey(prefixes, n), value, peer, path, slot);
    // With this peer's path the only one, it is the best: flush need not look it up.
    rows.set(AFTER, at, value === undefined || value === peer ? path : UNKNOWN);
    if (old !== undefined) this.attributeSets.release(old);
    return true;
  }

  /**
   * The dirty row of IPv4 prefix `address` (int32) / `length`, with its slot saved; a new row
   * (its best path before still to be set) is returned as -(row + 1).
   */
  private dirtyRowIpv4(address: number, length: number, slot: number): number {
    const rows = this.dirtyRows;
    if (this.locRib.generation !== this.slotsGeneration) {
      rows.fill(SLOT, -1);
      this.slotsGeneration = this.locRib.generation;
    }
    const dirtySlot = this.dirty.slotForIpv4(address, length);
    const known = this.dirty.at(dirtySlot);
    if (known !== undefined) {
      rows.set(SLOT, known, slot);
      return known;
    }
    const row = rows.pushIpv4(address, length);
    this.dirty.setAt(dirtySlot, row);
    rows.set(AFTER, row, UNKNOWN);
    rows.set(SLOT, row, slot);
    return -row - 1;
  }

  /** setPath for any key (IPv6, or a peer in graceful restart). */
  private setPathByKey(state: PeerState, key: PrefixKey, id: number): boolean {
    state.stale?.delete(key);
    const peer = state.peer.index;
    const { adjIn } = state;
    const slot = typeof key === 'number' ? this.locRib.slotFor(key) : -1;
    let old: number | undefined;
    if (slot >= 0) {
      // slotFor may have taken a slot for a new key: it gets this peer's value before anything else.
      old = adjIn.at(slot);
      if (old === id) return false;
      adjIn.setAt(slot, id);
    } else {
      old = adjIn.put(key, id);
      if (old === id) return false;
    }
    const value = slot >= 0 ? this.locRib.at(slot) : this.locRib.get(key);
    // A prefix new to the Loc-RIB gets this peer as its one path.
    if (value === undefined) this.setLocRib(key, slot, peer);
    const at = this.markDirty(key, this.bestBefore(key, value, peer, old, slot), slot);
    const path = peer * PEER_FACTOR + id;
    if (value !== undefined) this.replacePath(key, value, peer, path, slot);
    // With this peer's path the only one, it is the best: flush need not look it up.
    this.dirtyRows.set(AFTER, at, value === undefined || value === peer ? path : UNKNOWN);
    if (old !== undefined) this.attributeSets.release(old);
    return true;
  }

  private removePath(state: PeerState, key: PrefixKey): void {
    const slot = typeof key === 'number' ? this.locRib.slotOf(key) : -1;
    if (typeof key === 'number' && slot < 0) return;
    const old = slot >= 0 ? state.adjIn.at(slot) : state.adjIn.get(key);
    if (old === undefined) return;
    state.stale?.delete(key);
    const peer = state.peer.index;
    const value = slot >= 0 ? this.locRib.at(slot) : this.locRib.get(key);
    // The slot is not saved: deleting may free it or shrink the table.
    const at = this.markDirty(key, this.bestBefore(key, value, peer, old, slot), -1);
    // The Loc-RIB still holds the key: deleting this peer's value frees no slot, moves no key.
    state.adjIn.delete(key);
    this.replacePath(key, value, peer, NONE, slot);
    this.dirtyRows.set(AFTER, at, value === peer ? NONE : UNKNOWN);
    this.attributeSets.release(old);
  }

  /**
   * The best path of `key` from its Loc-RIB value, while `peer`'s Adj-RIB-In entry is changing
   * from `old`: the Loc-RIB still describes the table before the change.
   */
  private bestBefore(
    key: PrefixKey,
    value: number | undefined,
    peer: number,
    old: number | undefined,
    slot: number,
  ): number {
    if (value === undefined) return NONE;
    if (value < 0) return this.multiPaths[-value - 1]![0]!;
    return value === peer ? peer * PEER_FACTOR + old! : this.pathOf(key, value, slot);
  }

  /**
   * Records `key` as changed, with its best path before the change if it is new, and its slot
   * in the key table now (or -1); returns its index.
   */
  private markDirty(key: PrefixKey, best: number, slot: number): number {
    const rows = this.dirtyRows;
    if (this.locRib.generation !== this.slotsGeneration) {
      // Keys have moved: the slots saved so far are void.
      rows.fill(SLOT, -1);
      this.slotsGeneration = this.locRib.generation;
    }
    const known = this.dirty.insert(key, rows.length);
    if (known !== undefined) {
      rows.set(SLOT, known, slot);
      return known;
    }
    const row = rows.push(key);
    rows.set(BEFORE, row, best);
    rows.set(AFTER, row, UNKNOWN);
    rows.set(SLOT, row, slot);
    // Held until flush, so the id cannot be reused meanwhile and compare equal by accident.
    if (best !== NONE) this.attributeSets.ref(pathAttributeSet(best));
    return row;
  }

  /** The id `attributes` were interned under, if that entry still holds this object; else NONE. */
  private internedFrom(attributes: PathAttributes): number {
    const id = this.internedIds.get(attributes);
    if (id === undefined || this.attributeSets.refCount(id) === 0) return NONE;
    return this.attributeSets.get(id).attributes === attributes ? id : NONE;
  }

  /** The best path of `key` in the Loc-RIB, or NONE. */
  private bestPath(key: PrefixKey): number {
    const value = this.locRib.get(key);
    if (value === undefined) return NONE;
    return value >= 0 ? this.pathOf(key, value) : this.multiPaths[-value - 1]![0]!;
  }

  /** The path of `key` from `peer`, which has one; `slot`: the key's slot, if known, else -1. */
  private pathOf(key: PrefixKey, peer: number, slot = -1): number {
    const adjIn = this.peers[peer]!.adjIn;
    return peer * PEER_FACTOR + (slot >= 0 ? adjIn.at(slot) : adjIn.get(key))!;
  }

  /** The peer the best path of `key` came from as of the last flush (what groups advertise), or NONE. */
  private flushedSource(key: PrefixKey): number {
    const at = this.dirty.get(key);
    const before = at === undefined ? undefined : this.dirtyRows.get(BEFORE, at);
    const best = before === undefined ? this.bestPath(key) : before;
    return best === NONE ? NONE : pathPeer(best);
  }

  /**
   * Replaces (or with NONE removes) the Loc-RIB path of `peer` for `key`, whose Loc-RIB value
   * is `value`, keeping the best first. The peer's Adj-RIB-In already holds the change.
   */
  private replacePath(
    key: PrefixKey,
    value: number | undefined,
    peer: number,
    path: number,
    keySlot: number,
  ): void {
    if (value === undefined) {
      if (path !== NONE) this.setLocRib(key, keySlot, peer);
    } else if (value >= 0) {
      if (value === peer) {
        if (path === NONE) this.locRib.delete(key);
      } else if (path !== NONE) {
        const both = [this.pathOf(key, value, keySlot), path];
        this.putBestFirst(both);
        const slot = this.freeSlots.pop() ?? this.multiPaths.length;
        this.multiPaths[slot] = both;
        this.setLocRib(key, keySlot, -slot - 1);
      }
    } else {
      const slot = -value - 1;
      const paths = this.multiPaths[slot]!;
      const i = paths.findIndex((p) => pathPeer(p) === peer);
      if (path === NONE) {
        if (i < 0) return;
        paths.splice(i, 1);
      } else if (i < 0) {
        paths.push(path);
      } else {
        paths[i] = path;
      }
      if (paths.length > 1) {
        this.putBestFirst(paths);
      } else {
        this.setLocRib(key, keySlot, pathPeer(paths[0]!));
        this.multiPaths[slot] = [];
        this.freeSlots.push(slot);
      }
    }
  }

  /** Sets the Loc-RIB value of `key`, at `slot` if that is known (else -1). */
  private setLocRib(key: PrefixKey, slot: number, value: number): void {
    if (slot >= 0) this.locRib.setAt(slot, value);
    else this.locRib.set(key, value);
  }

  private putBestFirst(paths: number[]): void {
    const best = selectBest(
      paths.map((p) => this.view(p)),
      this.local.alwaysCompareMed ?? false,
    );
    [paths[0], paths[best]] = [paths[best]!, paths[0]!];
  }

  private view(path: number): PathView {
    const peer = this.peers[pathPeer(path)]!.peer;
    const stored = this.attributeSets.get(pathAttributeSet(path));
    const a = stored.attributes;
    return {
      local: peer.index === LOCAL_PEER,
      localPref: a.localPref ?? DEFAULT_LOCAL_PREF,
      asPathLength: stored.asPathLength,
      origin: a.origin,
      med: a.med ?? 0,
      neighbourAs: stored.neighbourAs || this.local.asn,
      ebgp: !peer.ibgp,
      igpCost: a.nextHop !== null && this.local.igpCost ? this.local.igpCost(a.nextHop) : undefined,
      clusterListLength: a.clusterList?.length ?? 0,
      routerId: a.originatorId ?? peer.routerId,
      peerAddress: peer.addressOrder,
    };
  }

  /** The export id (with a reference for the caller) of `path` to `group` for `key`, or NONE. */
  private exportFor(path: number, group: UpdateGroup, key: PrefixKey): number {
    const id = pathAttributeSet(path);
    const source = pathPeer(path);
    const exported = this.exportId(id, source, group);
    if (exported === NONE) return NONE;
    if (typeof group.profile.exportPolicy === 'function' && !this.policyExports(group, id, source, key)) {
      return NONE;
    }
    this.exportSets.ref(exported);
    return exported;
  }

  /** Whether the group's export policy, a function, passes the path for `key`. */
  private policyExports(group: UpdateGroup, id: number, source: number, key: PrefixKey): boolean {
    const policy = group.profile.exportPolicy;
    if (typeof policy !== 'function') return true;
    const attributes = this.attributeSets.get(id).attributes;
    return policy({ prefix: keyToString(key), attributes, from: source });
  }

  /**
   * The export id of attribute set `id` from peer `source` to `group` before any function
   * policy (no reference taken), or NONE.
   */
  private exportId(id: number, source: number, group: UpdateGroup): number {
    const slot = group.id * (MAX_PEER_INDEX + 1) + source;
    let exported: number | undefined;
    // Runs of prefixes share a path: the last answer saves two map lookups per prefix.
    if (id === this.lastExportId && slot === this.lastExportSlot) {
      exported = this.lastExported;
    } else {
      exported = this.exportCache.get(id, slot);
      if (exported === undefined) {
        exported = this.computeExport(id, source, group);
        this.exportCache.set(id, slot, exported);
      }
      this.lastExportId = id;
      this.lastExportSlot = slot;
      this.lastExported = exported;
    }
    return exported;
  }

  private computeExport(id: number, source: number, group: UpdateGroup): number {
    const target = group.profile;
    const attributes = this.attributeSets.get(id).attributes;
    const from = this.peers[source]!.peer;
    if (target.exportPolicy === 'none' || !mayExport(attributes, from, target)) return NONE;
    const exported = exportSpec(attributes, from, target, this.speaker);
    if (!exported) return NONE;
    const bytes = buildAttributes(exported.spec, group.ctx);
    const mpNextHop = exported.mpNextHop;
    const key = mpNextHop
      ? `${bytes.toString('latin1')}\u0100${mpNextHop.toString('latin1')}`
      : bytes.toString('latin1');
    return this.exportSets.intern(key, () => ({ attributes: bytes, mpNextHop }));
  }

  /** An attribute set was freed: its cached exports go too (its id will be reused). */
  private forgetExports(id: number): void {
    this.lastExportId = NONE;
    this.exportCache.forget(id, this.releaseExport);
  }

  private dropGroup(group: UpdateGroup): void {
    group.close();
    this.groups.delete(this.profileKey(group.profile));
    this.forgetExportsWhere((groupId) => groupId === group.id);
  }

  private forgetExportsWhere(matches: (groupId: number, source: number) => boolean): void {
    this.lastExportId = NONE;
    const factor = MAX_PEER_INDEX + 1;
    this.exportCache.forgetSlots(
      (slot) => matches(Math.floor(slot / factor), slot % factor),
      this.releaseExport,
    );
  }

  private readonly releaseExport = (exported: number): void => {
    if (exported !== NONE) this.exportSets.release(exported);
  };

  /** Peers with equal profile keys are sent identical UPDATEs. */
  private profileKey(peer: Peer): string {
    return [
      peer.ibgp,
      peer.routeReflectorClient,
      peer.nextHopSelf,
      peer.fourOctetAs,
      peer.extendedMessages,
      peer.ipv4,
      peer.ipv6,
      this.policyId(peer.exportPolicy),
    ].join('|');
  }

  private policyId(policy: Policy): string {
    if (typeof policy !== 'function') return policy;
    let id = this.policyIds.get(policy);
    if (id === undefined) {
      id = this.policyIds.size;
      this.policyIds.set(policy, id);
    }
    return `f${id}`;
  }

  private route(key: PrefixKey, path: number): Route {
    return {
      prefix: keyToString(key),
      from: pathPeer(path),
      attributes: this.attributeSets.get(pathAttributeSet(path)).attributes,
    };
  }
}

/** IPv4 keys read from a table at a time by forEachKeyOf. */
const KEYS_PER_SCAN = 16_384;

/**
 * Calls `visit` with every key `table` holds, of family `afi` or of all; `visit` removes the
 * key from the table. IPv4 keys are read a bounded bufferful at a time, not copied all at once:
 * a copy of a full table's million keys was most of the peak when a full-table peer went down.
 */
function forEachKeyOf(table: PrefixTable, afi: number | undefined, visit: (key: PrefixKey) => void): void {
  if (afi === undefined || afi === Afi.Ipv4) {
    const keys = new Float64Array(Math.min(table.size, KEYS_PER_SCAN));
    let generation = table.generation;
    for (let from = 0; from >= 0 && keys.length > 0; ) {
      const { count, next } = table.scanIpv4(from, keys);
      for (let n = 0; n < count; n++) visit(keys[n]!);
      // Compaction moved the keys: those visited are gone, so the rest start at slot 0.
      from = table.generation === generation ? next : next < 0 ? -1 : 0;
      generation = table.generation;
    }
  }
  if (afi === Afi.Ipv4) return;
  const others: PrefixKey[] = [];
  table.forEach((key) => {
    if (typeof key !== 'number' && (afi === undefined || keyFamily(key) === afi)) others.push(key);
  });
  for (const key of others) visit(key);
}

function parseKey(prefix: string): PrefixKey {
  return prefixKey(prefixList(prefix.includes(':') ? Afi.Ipv6 : Afi.Ipv4, [prefix]), 0);
}

function wordsToBuffer(words: Uint32Array): Buffer {
  const buf = Buffer.allocUnsafe(16);
  words.forEach((w, i) => {
    buf.writeUInt32BE(w, i * 4);
  });
  return buf;
}
