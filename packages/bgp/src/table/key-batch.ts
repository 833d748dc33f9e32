// One batch of changed prefixes with a few numbers per prefix, in typed arrays that are kept
// from batch to batch: a batch of thousands of prefixes then makes no garbage per prefix (JS
// arrays refilled every batch made the collector a large share of the hot path).

import type { PrefixKey } from './prefix-key';

/** Rows a batch keeps when cleared; beyond it the arrays are dropped, giving memory back. */
const RETAINED_ROWS = 1 << 16;
const INITIAL_ROWS = 256;

export class KeyBatch {
  /** Rows in the batch. */
  length = 0;
  /** IPv4 keys by row; NaN where the key is IPv6 (kept in `v6Keys`). */
  private keys = new Float64Array(INITIAL_ROWS);
  private readonly v6Keys = new Map<number, string>();
  private columns: Float64Array[];

  constructor(private readonly columnCount: number) {
    this.columns = Array.from({ length: columnCount }, () => new Float64Array(INITIAL_ROWS));
  }

  /** Adds a row for `key`; returns its index. Its numbers are 0 until set. */
  push(key: PrefixKey): number {
    const row = this.length;
    if (row === this.keys.length) this.grow(row * 2);
    if (typeof key === 'number') {
      this.keys[row] = key;
    } else {
      this.keys[row] = Number.NaN;
      this.v6Keys.set(row, key);
    }
    this.length = row + 1;
    return row;
  }

  /** push() for IPv4 prefix `address`/`length` (the address as uint32 or int32). */
  pushIpv4(address: number, length: number): number {
    const row = this.length;
    if (row === this.keys.length) this.grow(row * 2);
    this.keys[row] = (address >>> 0) * 64 + length;
    this.length = row + 1;
    return row;
  }

  /** Adds a row for the key of row `row` of `other`; returns its index. */
  pushFrom(other: KeyBatch, row: number): number {
    const key = other.keys[row]!;
    if (Number.isNaN(key)) return this.push(other.v6Keys.get(row)!);
    const to = this.length;
    if (to === this.keys.length) this.grow(to * 2);
    this.keys[to] = key;
    this.length = to + 1;
    return to;
  }

  key(row: number): PrefixKey {
    const key = this.keys[row]!;
    return Number.isNaN(key) ? this.v6Keys.get(row)! : key;
  }

  /** The IPv4 key of a row, or NaN for an IPv6 one. */
  ipv4Key(row: number): number {
    return this.keys[row]!;
  }

  /** A column's numbers by row, to read in a loop: valid until the next push or clear. */
  column(column: number): Float64Array {
    return this.columns[column]!;
  }

  get(column: number, row: number): number {
    return this.columns[column]![row]!;
  }

  set(column: number, row: number, value: number): void {
    this.columns[column]![row] = value;
  }

  /** Sets one column of every row. */
  fill(column: number, value: number): void {
    this.columns[column]!.fill(value, 0, this.length);
  }

  clear(): void {
    this.length = 0;
    this.v6Keys.clear();
    if (this.keys.length > RETAINED_ROWS) {
      this.keys = new Float64Array(INITIAL_ROWS);
      this.columns = this.columns.map(() => new Float64Array(INITIAL_ROWS));
    }
  }

  private grow(rows: number): void {
    const keys = new Float64Array(rows);
    keys.set(this.keys);
    this.keys = keys;
    for (let c = 0; c < this.columnCount; c++) {
      const column = new Float64Array(rows);
      column.set(this.columns[c]!);
      this.columns[c] = column;
    }
  }
}
