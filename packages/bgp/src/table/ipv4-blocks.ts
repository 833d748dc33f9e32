// The IPv4 key table behind PrefixTable: prefixes (address * 64 + length) with one column of
// values per table sharing them.
//
// Prefixes live in blocks of 8 neighbours: the prefixes of one length whose addresses differ
// only in the last 3 bits of the prefix (10.0.0.0/24 … 10.0.7.0/24, or 8 adjacent /32s). A small
// hash table maps a block's base to its block number; prefix i of block b has slot b * 8 + i.
// Routes come in runs of neighbours (UPDATEs carry adjacent prefixes, and so do real feeds), so
// a run shares one block lookup (the last one is remembered) and its values sit side by side
// in each column: where one hash slot per prefix cost a cache miss per prefix and per column,
// a run of 8 costs about one. Columns are chunked: growing adds chunks instead of copying into
// arrays twice the size, and only the block hash (an eighth of the keys) is ever rehashed.
// A slot stays the same while its prefix is in the table (until `generation` changes), so
// callers can keep slots instead of looking prefixes up again.

/** Length-byte markers of hash slots without a block; real lengths are 0..32. */
const EMPTY = 255;
const DELETED = 254;
/** The value of a key a column does not hold; no table stores it. */
export const ABSENT = -0x80000000;
// 8 per block: on 1,000,000 adjacent /32s with three int32 columns the table holds 16 bytes
// per prefix (36 for one hash slot per prefix); on prefixes with no neighbour present it holds
// 105-121 bytes (4 per block: 19 and 71-74; see docs/benchmarks.md, round 4).
const BLOCK_BITS = 3;
const BLOCK = 1 << BLOCK_BITS;

// A prefix's block holds its BLOCK neighbours of the same length: the prefix's address with the
// BLOCK_BITS bits above the length cleared is the block's base, those bits its index. Shifts
// count mod 32, so a /0 is alone in its block.
function indexInBlock(address: number, length: number): number {
  return length === 0 ? 0 : (address >>> (32 - length)) & (BLOCK - 1);
}

function blockBase(address: number, length: number): number {
  return length === 0 ? address : address & ~((BLOCK - 1) << (32 - length));
}

/** Slots per column chunk (256 KB of int32); chunk 0 starts smaller and grows up to this. */
const CHUNK_BITS = 16;
const CHUNK = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK - 1;
const MIN_BLOCKS = 4;

let nextSeed = 1;

/** Values: any double, or int32 at half the size where that is all a table stores. */
export type ValueArray = typeof Float64Array | typeof Int32Array;
type Values = Float64Array | Int32Array;

export class Ipv4Keys {
  constructor(
    /** Emptied, the table keeps up to this many slots (a scratch table refilled every batch). */
    private readonly retainSlots: number,
  ) {}

  /** Each key table hashes differently, so walking one while filling another builds no runs. */
  private readonly seed = nextSeed++;

  // The block hash: block base address and length → block number. Addresses are kept as
  // int32 (the same bits): small integers that V8 passes and compares without boxing.
  private hashAddresses = new Int32Array(MIN_BLOCKS * 2);
  private hashLengths = new Uint8Array(MIN_BLOCKS * 2).fill(EMPTY);
  private hashBlocks = new Int32Array(MIN_BLOCKS * 2);
  private hashMask = MIN_BLOCKS * 2 - 1;
  /** Live and deleted hash slots: what probing has to walk over. */
  private hashUsed = 0;

  // Per block: its base address and length, and which of its 8 prefixes are present.
  private blockAddresses = new Int32Array(MIN_BLOCKS);
  private blockLengths = new Uint8Array(MIN_BLOCKS);
  private blockPresent = new Uint8Array(MIN_BLOCKS);
  /** Block numbers in use or freed: the next new one unless one was freed. */
  private blocksTaken = 0;
  private freeBlocks: number[] = [];
  private liveBlocks = 0;

  /** The block the last lookup found (-1: none), for runs of neighbours. */
  private lastAddress = 0;
  private lastLength = -1;
  private lastBlock = -1;

  /**
   * Per column: its chunks of values by slot (a missing chunk holds no value), or null once
   * released. A column holds ABSENT where it has no value, and so does every column in slots
   * without a key.
   */
  private readonly columns: (Values[] | null)[] = [];
  private readonly kinds: ValueArray[] = [];
  /** Per column: how many keys it holds. */
  readonly sizes: number[] = [];
  /** Keys present in some column. */
  private live = 0;
  /** Changes whenever slots may have been freed or moved but by delete (clear, compaction). */
  generation = 0;

  /** Slots the table has room for without growing. */
  get capacity(): number {
    return this.blockAddresses.length * BLOCK;
  }

  /** A new column, holding no keys; returns its number. */
  addColumn(kind: ValueArray): number {
    let column = this.columns.indexOf(null);
    if (column < 0) column = this.columns.length;
    this.columns[column] = [];
    this.kinds[column] = kind;
    this.sizes[column] = 0;
    return column;
  }

  /** Empties a column and frees it for addColumn. */
  releaseColumn(column: number): void {
    this.clear(column);
    this.columns[column] = null;
  }

  /** The block of `key`'s base and length, or -1. */
  private findBlock(base: number, length: number): number {
    if (base === this.lastAddress && length === this.lastLength) return this.lastBlock;
    for (let i = this.home(base, length); ; i = (i + 1) & this.hashMask) {
      const l = this.hashLengths[i]!;
      if (l === length && this.hashAddresses[i] === base) {
        const block = this.hashBlocks[i]!;
        this.lastAddress = base;
        this.lastLength = length;
        this.lastBlock = block;
        return block;
      }
      if (l === EMPTY) return -1;
    }
  }

  private home(base: number, length: number): number {
    let h = base ^ Math.imul(length + this.seed, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.hashMask;
  }

  /** The slot holding `key`, or -1. */
  slotOf(key: number): number {
    const address = Math.floor(key / 64);
    return this.slotOfPrefix(address | 0, key - address * 64);
  }

  /** slotOf for the prefix of `address` (as int32: `address | 0`) and `length`. */
  slotOfPrefix(address: number, length: number): number {
    const index = indexInBlock(address, length);
    const block = this.findBlock(blockBase(address, length), length);
    if (block < 0 || (this.blockPresent[block]! & (1 << index)) === 0) return -1;
    return block * BLOCK + index;
  }

  /**
   * The slot of `key`, taking one if the key is new: the caller must then give some column a
   * value there (setAt) before anything else changes the table, or the key would hold a slot
   * with no value. The slot stays valid while `generation` does and the key is not deleted.
   */
  slotFor(key: number): number {
    const address = Math.floor(key / 64);
    return this.slotForPrefix(address | 0, key - address * 64);
  }

  /** slotFor for the prefix of `address` (as int32: `address | 0`) and `length`. */
  slotForPrefix(address: number, length: number): number {
    const index = indexInBlock(address, length);
    const base = blockBase(address, length);
    let block = this.findBlock(base, length);
    if (block < 0) block = this.addBlock(base, length);
    const bit = 1 << index;
    const present = this.blockPresent[block]!;
    if ((present & bit) === 0) {
      this.blockPresent[block] = present | bit;
      this.live++;
    }
    return block * BLOCK + index;
  }

  /** The key in a slot that holds one. */
  private keyAt(slot: number): number {
    const block = slot >>> BLOCK_BITS;
    const length = this.blockLengths[block]!;
    const index = slot & (BLOCK - 1);
    const address =
      length === 0 ? this.blockAddresses[block]! : this.blockAddresses[block]! | (index << (32 - length));
    return (address >>> 0) * 64 + length;
  }

  private addBlock(base: number, length: number): number {
    if ((this.hashUsed + 1) * 4 > (this.hashMask + 1) * 3) this.rehash(this.liveBlocks + 1);
    let block = this.freeBlocks.pop();
    if (block === undefined) {
      if (this.blocksTaken === this.blockAddresses.length) this.growBlocks(this.blocksTaken * 2);
      block = this.blocksTaken++;
    }
    this.blockAddresses[block] = base;
    this.blockLengths[block] = length;
    this.blockPresent[block] = 0;
    this.liveBlocks++;
    let i = this.home(base, length);
    while (this.hashLengths[i]! < DELETED) i = (i + 1) & this.hashMask;
    if (this.hashLengths[i] === EMPTY) this.hashUsed++;
    this.hashAddresses[i] = base;
    this.hashLengths[i] = length;
    this.hashBlocks[i] = block;
    this.lastAddress = base;
    this.lastLength = length;
    this.lastBlock = block;
    return block;
  }

  /** Removes a block whose prefixes are all gone; its number is reused. */
  private dropBlock(block: number): void {
    const base = this.blockAddresses[block]!;
    const length = this.blockLengths[block]!;
    let i = this.home(base, length);
    while (this.hashBlocks[i] !== block || this.hashLengths[i]! >= DELETED) i = (i + 1) & this.hashMask;
    this.hashLengths[i] = DELETED;
    this.freeBlocks.push(block);
    this.liveBlocks--;
    if (this.lastBlock === block) this.lastLength = -1;
  }

  /** A block hash sized for `blocks` live blocks, at most half full, without deleted slots. */
  private rehash(blocks: number): void {
    let size = MIN_BLOCKS * 2;
    while (size < blocks * 2) size *= 2;
    this.hashAddresses = new Int32Array(size);
    this.hashLengths = new Uint8Array(size).fill(EMPTY);
    this.hashBlocks = new Int32Array(size);
    this.hashMask = size - 1;
    this.hashUsed = 0;
    for (let block = 0; block < this.blocksTaken; block++) {
      // Free blocks have no prefix; a new one is hashed after this (see addBlock).
      if (this.blockPresent[block] === 0) continue;
      const base = this.blockAddresses[block]!;
      const length = this.blockLengths[block]!;
      let i = this.home(base, length);
      while (this.hashLengths[i] !== EMPTY) i = (i + 1) & this.hashMask;
      this.hashAddresses[i] = base;
      this.hashLengths[i] = length;
      this.hashBlocks[i] = block;
      this.hashUsed++;
    }
  }

  private growBlocks(blocks: number): void {
    const addresses = new Int32Array(blocks);
    addresses.set(this.blockAddresses);
    this.blockAddresses = addresses;
    const lengths = new Uint8Array(blocks);
    lengths.set(this.blockLengths);
    this.blockLengths = lengths;
    const present = new Uint8Array(blocks);
    present.set(this.blockPresent);
    this.blockPresent = present;
    // Chunk 0 grows with the table until it is a full chunk.
    const first = Math.min(blocks * BLOCK, CHUNK);
    this.columns.forEach((chunks, column) => {
      const chunk = chunks?.[0];
      if (!chunk || chunk.length === first) return;
      const bigger = new this.kinds[column]!(first).fill(ABSENT);
      bigger.set(chunk.subarray(0, Math.min(chunk.length, first)));
      chunks[0] = bigger;
    });
  }

  get(column: number, key: number): number | undefined {
    const slot = this.slotOf(key);
    if (slot < 0) return undefined;
    const value = this.at(column, slot);
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

  private store(column: number, key: number, value: number, overwrite: boolean): number {
    const slot = this.slotFor(key);
    const chunk = this.writableChunk(column, slot);
    const i = slot & CHUNK_MASK;
    const previous = chunk[i]!;
    if (previous === ABSENT) this.sizes[column]!++;
    else if (!overwrite) return previous;
    chunk[i] = value;
    return previous;
  }

  /** The column's value in a slot from slotOf or slotFor, or ABSENT. */
  at(column: number, slot: number): number {
    // A chunk not allocated, or chunk 0 not grown yet, holds no value.
    return this.columns[column]![slot >>> CHUNK_BITS]?.[slot & CHUNK_MASK] ?? ABSENT;
  }

  /** Sets the column's value in a slot from slotOf or slotFor (no lookup, no growth). */
  setAt(column: number, slot: number, value: number): void {
    const chunk = this.writableChunk(column, slot);
    const i = slot & CHUNK_MASK;
    if (chunk[i] === ABSENT) this.sizes[column]!++;
    chunk[i] = value;
  }

  /** The chunk of the column holding `slot`, allocated if it is not yet. */
  private writableChunk(column: number, slot: number): Values {
    const chunks = this.columns[column]!;
    const n = slot >>> CHUNK_BITS;
    const chunk = chunks[n];
    // Chunk 0 is kept as large as the table (see growBlocks); the others are full chunks.
    if (chunk !== undefined) return chunk;
    const made = new this.kinds[column]!(n > 0 ? CHUNK : Math.min(this.capacity, CHUNK)).fill(ABSENT);
    chunks[n] = made;
    return made;
  }

  delete(column: number, key: number): boolean {
    const slot = this.slotOf(key);
    if (slot < 0) return false;
    const chunk = this.columns[column]![slot >>> CHUNK_BITS];
    const i = slot & CHUNK_MASK;
    const value = chunk?.[i];
    if (chunk === undefined || value === undefined || value === ABSENT) return false;
    chunk[i] = ABSENT;
    // A peer's emptied Adj-RIB-In gives its column's memory back.
    if (--this.sizes[column]! === 0 && this.capacity > this.retainSlots) this.columns[column] = [];
    if (this.unused(slot)) {
      this.dropKey(slot);
      // Withdrawing most of a big table (a peer going down) gives its memory back.
      if (this.liveBlocks * 8 < this.blockAddresses.length && this.capacity > this.retainSlots)
        this.compact();
    }
    return true;
  }

  /** No column holds a value in the slot. */
  private unused(slot: number): boolean {
    const n = slot >>> CHUNK_BITS;
    const i = slot & CHUNK_MASK;
    for (const chunks of this.columns) {
      const value = chunks?.[n]?.[i];
      if (value !== undefined && value !== ABSENT) return false;
    }
    return true;
  }

  private dropKey(slot: number): void {
    const block = slot >>> BLOCK_BITS;
    const present = this.blockPresent[block]! & ~(1 << (slot & (BLOCK - 1)));
    this.blockPresent[block] = present;
    this.live--;
    if (present === 0) this.dropBlock(block);
  }

  /** Calls `visit` with each key and value of the column; `visit` must not change the table. */
  forEach(column: number, visit: (key: number, value: number) => void): void {
    if (this.sizes[column] === 0) return;
    const chunks = this.columns[column]!;
    for (let n = 0; n < chunks.length; n++) {
      const chunk = chunks[n];
      if (!chunk) continue;
      for (let i = 0; i < chunk.length; i++) {
        const value = chunk[i]!;
        if (value !== ABSENT) visit(this.keyAt(n * CHUNK + i), value);
      }
    }
  }

  /**
   * Copies into `out` the keys of the column's values at slot `from` and after, as many as
   * `out` holds, in slot order; returns how many it copied and the slot to go on from (-1 at
   * the end). Only reads: the caller may change the table between calls, and goes on from the
   * slot returned while `generation` stays the same.
   */
  scan(column: number, from: number, out: Float64Array): { count: number; next: number } {
    const chunks = this.sizes[column] === 0 ? [] : this.columns[column]!;
    let count = 0;
    for (let n = from >>> CHUNK_BITS; n < chunks.length; n++) {
      const chunk = chunks[n];
      if (!chunk) continue;
      for (let i = n === from >>> CHUNK_BITS ? from & CHUNK_MASK : 0; i < chunk.length; i++) {
        if (chunk[i] === ABSENT) continue;
        if (count === out.length) return { count, next: n * CHUNK + i };
        out[count++] = this.keyAt(n * CHUNK + i);
      }
    }
    return { count, next: -1 };
  }

  *entries(column: number): IterableIterator<[number, number]> {
    if (this.sizes[column] === 0) return;
    const chunks = this.columns[column]!;
    for (let n = 0; n < chunks.length; n++) {
      const chunk = chunks[n];
      if (!chunk) continue;
      for (let i = 0; i < chunk.length; i++) {
        const value = chunk[i]!;
        if (value !== ABSENT) yield [this.keyAt(n * CHUNK + i), value];
      }
    }
  }

  clear(column: number): void {
    if (this.sizes[column] === 0) return;
    this.generation++;
    const chunks = this.columns[column]!;
    if (this.sizes.every((size, other) => other === column || size === 0)) {
      // No other column holds a key: every key goes (a scratch table emptied after each batch).
      // A table that keeps its memory is refilled from clean chunks; a larger one drops them.
      if (this.capacity <= this.retainSlots) {
        for (const chunk of chunks) chunk?.fill(ABSENT, 0, Math.min(chunk.length, this.blocksTaken * BLOCK));
      }
      this.sizes[column] = 0;
      this.reset();
      return;
    }
    for (let n = 0; n < chunks.length; n++) {
      const chunk = chunks[n];
      if (!chunk) continue;
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] === ABSENT) continue;
        chunk[i] = ABSENT;
        if (this.unused(n * CHUNK + i)) this.dropKey(n * CHUNK + i);
      }
    }
    this.sizes[column] = 0;
    if (this.capacity > this.retainSlots) this.columns[column] = [];
    if (this.live === 0) this.reset();
  }

  /** Forgets every key; a table larger than retainSlots gives its memory back. */
  private reset(): void {
    this.generation++;
    this.lastLength = -1;
    this.live = 0;
    this.liveBlocks = 0;
    this.blocksTaken = 0;
    this.freeBlocks = [];
    if (this.capacity > this.retainSlots) {
      this.blockAddresses = new Int32Array(MIN_BLOCKS);
      this.blockLengths = new Uint8Array(MIN_BLOCKS);
      this.blockPresent = new Uint8Array(MIN_BLOCKS);
      for (let column = 0; column < this.columns.length; column++) {
        if (this.columns[column]) this.columns[column] = [];
      }
      this.rehash(0);
    } else {
      this.blockPresent.fill(0);
      this.hashLengths.fill(EMPTY);
      this.hashUsed = 0;
    }
  }

  /** Renumbers the live blocks densely into arrays sized for them: slots move. */
  private compact(): void {
    this.generation++;
    this.lastLength = -1;
    let blocks = MIN_BLOCKS;
    while (blocks < this.liveBlocks * 2) blocks *= 2;
    const addresses = new Int32Array(blocks);
    const lengths = new Uint8Array(blocks);
    const present = new Uint8Array(blocks);
    const moved = this.columns.map((chunks, column) =>
      chunks && chunks.length > 0 ? this.newChunks(column, blocks) : chunks,
    );
    let to = 0;
    for (let from = 0; from < this.blocksTaken; from++) {
      if (this.blockPresent[from] === 0) continue;
      addresses[to] = this.blockAddresses[from]!;
      lengths[to] = this.blockLengths[from]!;
      present[to] = this.blockPresent[from]!;
      for (let column = 0; column < moved.length; column++) {
        const target = moved[column];
        if (!target || target.length === 0) continue;
        for (let i = 0; i < BLOCK; i++) {
          const value = this.at(column, from * BLOCK + i);
          const slot = to * BLOCK + i;
          target[slot >>> CHUNK_BITS]![slot & CHUNK_MASK] = value;
        }
      }
      to++;
    }
    this.blockAddresses = addresses;
    this.blockLengths = lengths;
    this.blockPresent = present;
    this.blocksTaken = to;
    this.freeBlocks = [];
    moved.forEach((chunks, column) => {
      this.columns[column] = chunks;
    });
    this.rehash(to);
  }

  /** Every chunk a column needs for `blocks` blocks, holding no value. */
  private newChunks(column: number, blocks: number): Values[] {
    const slots = blocks * BLOCK;
    const chunks: Values[] = [];
    for (let start = 0; start < slots; start += CHUNK) {
      chunks.push(new this.kinds[column]!(Math.min(CHUNK, slots - start)).fill(ABSENT));
    }
    return chunks;
  }
}
