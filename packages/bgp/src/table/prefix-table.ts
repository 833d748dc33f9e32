// Maps from prefix to a number, the RIBs' one data structure. IPv4 keys (see prefix-key.ts)
// live in an open-addressing hash table over typed arrays: no per-entry objects, and 5 bytes
// of key per slot (a uint32 address and a length byte, which also marks empty and deleted
// slots) instead of the 8 of a double. Tables holding mostly the same prefixes (the Loc-RIB
// and the Adj-RIB-Outs) can share one key table, each keeping a column of values beside it.
// IPv6 keys use a plain Map per table.

import type { PrefixKey } from './prefix-key';

/** Length-byte markers of slots without a key; real lengths are 0..32. */
const EMPTY = 255;
const DELETED = 254;
/** The value of a key a column does not hold; no table stores it. */
const ABSENT = -0x80000000;
const MIN_CAPACITY = 16;
/** Tables up to this many slots (tens of KB) keep them when emptied, for the next batch. */
const SMALL = 4096;

let nextSeed = 1;

/** Values: any double, or int32 at half the size where that is all a table stores. */
export type ValueArray = typeof Float64Array | typeof Int32Array;
type Values = Float64Array | Int32Array;

/**
 * IPv4 keys (address * 64 + length) with one column of values per table sharing them, by
 * open addressing with linear probing. A key stays while some column holds a value for it.
 */
class Ipv4Keys {
  constructor(
    /** Emptied, the table keeps up to this many slots (a scratch table refilled every batch). */
    private readonly retainSlots: number,
  ) {}

  /**
   * Each key table hashes differently: copying keys in one table's slot order into another
   * (a Loc-RIB walk filling the dirty table) would otherwise fill runs of adjacent slots.
   */
  private readonly seed = nextSeed++;
  private addresses = new Uint32Array(MIN_CAPACITY);
  private lengths = new Uint8Array(MIN_CAPACITY).fill(EMPTY);
  private mask = MIN_CAPACITY - 1;
  /**
   * Per column: its values by slot, or null once released. A column holds ABSENT where it has
   * no value, and so does every column in slots without a key.
   */
  private readonly columns: (Values | null)[] = [];
  private readonly kinds: ValueArray[] = [];
  /** Per column: how many keys it holds. */
  readonly sizes: number[] = [];
  /** Keys present in some column. */
  private live = 0;
  /** Live and deleted slots: what probing has to walk over. */
  private used = 0;

  get capacity(): number {
    return this.lengths.length;
  }

  /** A new column, holding no keys; returns its number. */
  addColumn(kind: ValueArray): number {
    let column = this.columns.indexOf(null);
    if (column < 0) column = this.columns.length;
    this.columns[column] = new kind(this.capacity).fill(ABSENT);
    this.kinds[column] = kind;
    this.sizes[column] = 0;
    return column;
  }

  /** Empties a column and frees it for addColumn. */
  releaseColumn(column: number): void {
    this.clear(column);
    this.columns[column] = null;
  }

  private home(address: number, length: number): number {
    // MurmurHash3's finaliser over all but the low 2 address bits scatters blocks of 4
    // addresses; within a block they stay side by side. Adjacent prefixes, which UPDATEs
    // carry together, then share cache lines, while /30s and shorter are spread as before.
    // (Measured on 1M adjacent /32s: blocks of 4 or 8 cut table time by a third against
    // none; 16 gives part of it back to longer probe runs.)
    let h = (address >>> 2) ^ Math.imul(length + this.seed, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return ((h ^ (h >>> 16)) + (address & 3)) & this.mask;
  }

  /** The slot holding `key`, or -1. */
  private find(key: number): number {
    const address = Math.floor(key / 64);
    const length = key - address * 64;
    for (let i = this.home(address, length); ; i = (i + 1) & this.mask) {
      const l = this.lengths[i]!;
      if (l === length && this.addresses[i] === address) return i;
      if (l === EMPTY) return -1;
    }
  }

  get(column: number, key: number): number | undefined {
    const i = this.find(key);
    if (i < 0) return undefined;
    const value = this.columns[column]![i]!;
    return value === ABSENT ? undefined : value;
  }

  /** Sets the column's value for `key`; returns the value it replaces, or ABSENT. */
  set(column: number, key: number, value: number): number {
    return this.store(column, key, value, true);
  }

  /** Sets the column's value for `key` only if it has none; returns the value it has, or ABSENT. */
  insert(column: number, key: number, value: number): number {
    return this.store(column, key, value, false);
  }

  /** One probe for both: the slot of `key` is found or taken, then written unless kept. */
  private store(column: number, key: number, value: number, overwrite: boolean): number {
    const address = Math.floor(key / 64);
    const length = key - address * 64;
    let free = -1;
    let i = this.home(address, length);
    for (; ; i = (i + 1) & this.mask) {
      const l = this.lengths[i]!;
      if (l === length && this.addresses[i] === address) {
        const values = this.columns[column]!;
        const previous = values[i]!;
        if (previous === ABSENT) this.sizes[column]!++;
        else if (!overwrite) return previous;
        values[i] = value;
        return previous;
      }
      if (l === EMPTY) break;
      if (l === DELETED && free < 0) free = i;
    }
    if (free < 0) {
      if ((this.used + 1) * 4 > this.capacity * 3) {
        this.resize();
        return this.store(column, key, value, overwrite);
      }
      free = i;
      this.used++;
    }
    this.addresses[free] = address;
    this.lengths[free] = length;
    this.columns[column]![free] = value;
    this.sizes[column]!++;
    this.live++;
    return ABSENT;
  }

  /** The slot of `key` (valid until the next insert or delete), or -1: for reading several columns. */
  slotOf(key: number): number {
    return this.find(key);
  }

  /** The column's value in a slot from slotOf, or ABSENT. */
  at(column: number, slot: number): number {
    return this.columns[column]![slot]!;
  }

  /** Sets the column's value in a slot from slotOf (a slot with a key: no probing, no growth). */
  setAt(column: number, slot: number, value: number): void {
    const values = this.columns[column]!;
    if (values[slot] === ABSENT) this.sizes[column]!++;
    values[slot] = value;
  }

  delete(column: number, key: number): boolean {
    const i = this.find(key);
    if (i < 0) return false;
    const values = this.columns[column]!;
    if (values[i] === ABSENT) return false;
    values[i] = ABSENT;
    this.sizes[column]!--;
    if (this.unused(i)) {
      this.lengths[i] = DELETED;
      this.live--;
      // Withdrawing most of a big table (a peer going down) gives its memory back.
      if (this.live * 8 < this.capacity && this.capacity > this.retainSlots) this.resize();
    }
    return true;
  }

  /** Calls `visit` with each key and value of the column; `visit` must not change the table. */
  forEach(column: number, visit: (key: number, value: number) => void): void {
    const { addresses, lengths } = this;
    const values = this.columns[column]!;
    for (let i = 0; i < lengths.length; i++) {
      if (values[i] !== ABSENT) visit(addresses[i]! * 64 + lengths[i]!, values[i]!);
    }
  }

  *entries(column: number): IterableIterator<[number, number]> {
    const { addresses, lengths } = this;
    const values = this.columns[column]!;
    for (let i = 0; i < lengths.length; i++) {
      if (values[i] !== ABSENT) yield [addresses[i]! * 64 + lengths[i]!, values[i]!];
    }
  }

  clear(column: number): void {
    if (this.sizes[column] === 0) return;
    const values = this.columns[column]!;
    for (let i = 0; i < values.length; i++) {
      if (values[i] === ABSENT) continue;
      values[i] = ABSENT;
      if (this.unused(i)) {
        this.lengths[i] = DELETED;
        this.live--;
      }
    }
    this.sizes[column] = 0;
    if (this.live === 0) this.reset();
  }

  /** No column holds a value in slot `i`. */
  private unused(i: number): boolean {
    for (const values of this.columns) if (values && values[i] !== ABSENT) return false;
    return true;
  }

  /** Drops every slot once no key is left; a large table gives its memory back. */
  private reset(): void {
    if (this.capacity > this.retainSlots) this.allocate(MIN_CAPACITY);
    else this.lengths.fill(EMPTY);
    this.used = 0;
  }

  private allocate(capacity: number): void {
    this.addresses = new Uint32Array(capacity);
    this.lengths = new Uint8Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
    this.columns.forEach((values, column) => {
      if (values) this.columns[column] = new this.kinds[column]!(capacity).fill(ABSENT);
    });
  }

  /** Rehashes into a table sized for the live keys, dropping deleted slots. */
  private resize(): void {
    const { addresses, lengths } = this;
    const columns = [...this.columns];
    // At most half full afterwards: probes stay short, and memory at most doubles.
    let capacity = MIN_CAPACITY;
    while (capacity < (this.live + 1) * 2) capacity *= 2;
    this.allocate(capacity);
    // Keys are distinct and there is room: each goes to the first empty slot from its home.
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i]!;
      if (length >= DELETED) continue;
      const address = addresses[i]!;
      let at = this.home(address, length);
      while (this.lengths[at] !== EMPTY) at = (at + 1) & this.mask;
      this.addresses[at] = address;
      this.lengths[at] = length;
      for (let column = 0; column < columns.length; column++) {
        const values = columns[column];
        if (values) this.columns[column]![at] = values[i]!;
      }
    }
    this.used = this.live;
  }
}

/** Prefix → number, for both families. Values must not be -2^31. */
export class PrefixTable {
  private readonly v4: Ipv4Keys;
  private readonly column: number;
  private readonly v6 = new Map<string, number>();

  /**
   * An empty table; with `sharing`, one that keeps its IPv4 keys in that table's key table.
   * `retainSlots`: how many slots an emptied table keeps (more for one refilled every batch).
   */
  constructor(values: ValueArray, sharing?: PrefixTable, retainSlots = SMALL) {
    this.v4 = sharing?.v4 ?? new Ipv4Keys(retainSlots);
    this.column = this.v4.addColumn(values);
  }

  get size(): number {
    return this.v4.sizes[this.column]! + this.v6.size;
  }

  /** Slots of the IPv4 key table (shared, if it is), live or not: what its memory grows with. */
  get ipv4Capacity(): number {
    return this.v4.capacity;
  }

  get(key: PrefixKey): number | undefined {
    return typeof key === 'number' ? this.v4.get(this.column, key) : this.v6.get(key);
  }

  has(key: PrefixKey): boolean {
    return this.get(key) !== undefined;
  }

  set(key: PrefixKey, value: number): void {
    this.put(key, value);
  }

  /** Sets the value of `key` and returns the one it replaced, or undefined: one lookup for both. */
  put(key: PrefixKey, value: number): number | undefined {
    if (value === ABSENT) throw new Error(`prefix table: value ${ABSENT} is reserved for absent keys`);
    if (typeof key !== 'number') {
      const previous = this.v6.get(key);
      this.v6.set(key, value);
      return previous;
    }
    const previous = this.v4.set(this.column, key, value);
    return previous === ABSENT ? undefined : previous;
  }

  /**
   * Sets `key` to `value` only if it has no value: returns the value it has, or undefined if
   * it took `value`. One lookup for both.
   */
  insert(key: PrefixKey, value: number): number | undefined {
    if (value === ABSENT) throw new Error(`prefix table: value ${ABSENT} is reserved for absent keys`);
    if (typeof key === 'number') {
      const existing = this.v4.insert(this.column, key, value);
      return existing === ABSENT ? undefined : existing;
    }
    const existing = this.v6.get(key);
    if (existing === undefined) this.v6.set(key, value);
    return existing;
  }

  /**
   * The slot of IPv4 key `key` in the (shared) key table, or -1: several tables sharing it read
   * and update their values there with one lookup. Valid until a key is inserted or deleted.
   */
  slotOf(key: number): number {
    return this.v4.slotOf(key);
  }

  /** This table's value in a slot from slotOf, or undefined. */
  at(slot: number): number | undefined {
    const value = this.v4.at(this.column, slot);
    return value === ABSENT ? undefined : value;
  }

  /** Sets this table's value in a slot from slotOf. */
  setAt(slot: number, value: number): void {
    if (value === ABSENT) throw new Error(`prefix table: value ${ABSENT} is reserved for absent keys`);
    this.v4.setAt(this.column, slot, value);
  }

  delete(key: PrefixKey): boolean {
    return typeof key === 'number' ? this.v4.delete(this.column, key) : this.v6.delete(key);
  }

  clear(): void {
    this.v4.clear(this.column);
    this.v6.clear();
  }

  /** Empties the table for good, giving its column of a shared key table back. */
  release(): void {
    this.v4.releaseColumn(this.column);
    this.v6.clear();
  }

  *entries(): IterableIterator<[PrefixKey, number]> {
    yield* this.v4.entries(this.column);
    yield* this.v6.entries();
  }

  /** Like entries(), without an array per entry; `visit` must not change the table. */
  forEach(visit: (key: PrefixKey, value: number) => void): void {
    this.v4.forEach(this.column, visit);
    for (const [key, value] of this.v6) visit(key, value);
  }

  *keys(): IterableIterator<PrefixKey> {
    for (const [key] of this.entries()) yield key;
  }

  [Symbol.iterator](): IterableIterator<[PrefixKey, number]> {
    return this.entries();
  }
}
