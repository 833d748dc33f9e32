// What each attribute set exports as, per (update group, source peer) slot: attribute-set id →
// slot → export id. Almost every set is exported through one slot only (one group, one
// source), so the first slot of each set lives in two flat arrays and only further slots get a
// Map: a Map per set cost about 380 bytes of heap, 3.8 MB for 10,000 attribute sets.

/** Marks an id with no first slot. */
const EMPTY = -1;

export class ExportCache {
  /** Per attribute-set id: its first slot, or EMPTY. */
  private readonly firstSlots: number[] = [];
  /** Per attribute-set id: the export id cached for its first slot. */
  private readonly firstValues: number[] = [];
  /** Per attribute-set id: its other slots, if it has any. */
  private readonly more: (Map<number, number> | undefined)[] = [];

  get(id: number, slot: number): number | undefined {
    if (this.firstSlots[id] === slot) return this.firstValues[id];
    return this.more[id]?.get(slot);
  }

  /** Caches `value` for a slot `get` found nothing for. */
  set(id: number, slot: number, value: number): void {
    while (this.firstSlots.length <= id) {
      this.firstSlots.push(EMPTY);
      this.firstValues.push(0);
      this.more.push(undefined);
    }
    if (this.firstSlots[id] === EMPTY) {
      this.firstSlots[id] = slot;
      this.firstValues[id] = value;
      return;
    }
    let others = this.more[id];
    if (!others) {
      others = new Map();
      this.more[id] = others;
    }
    others.set(slot, value);
  }

  /** Drops every entry of attribute set `id`, handing each cached value to `drop`. */
  forget(id: number, drop: (value: number) => void): void {
    this.forgetWhere(id, () => true, drop);
  }

  /** Drops the entries of every set whose slot `matches`, handing each cached value to `drop`. */
  forgetSlots(matches: (slot: number) => boolean, drop: (value: number) => void): void {
    for (let id = 0; id < this.firstSlots.length; id++) this.forgetWhere(id, matches, drop);
  }

  /** Entries held, over all sets (for tests). */
  get size(): number {
    let size = 0;
    for (let id = 0; id < this.firstSlots.length; id++) {
      if (this.firstSlots[id] !== EMPTY) size++;
      size += this.more[id]?.size ?? 0;
    }
    return size;
  }

  private forgetWhere(id: number, matches: (slot: number) => boolean, drop: (value: number) => void): void {
    const others = this.more[id];
    if (others) {
      for (const [slot, value] of others) {
        if (!matches(slot)) continue;
        others.delete(slot);
        drop(value);
      }
      if (others.size === 0) this.more[id] = undefined;
    }
    const first = this.firstSlots[id];
    if (first === undefined || first === EMPTY || !matches(first)) return;
    const value = this.firstValues[id]!;
    // A remaining other slot moves up, so that the first slot is empty only when the set is.
    const next = this.more[id]?.entries().next();
    if (next && !next.done) {
      const [slot, nextValue] = next.value;
      this.firstSlots[id] = slot;
      this.firstValues[id] = nextValue;
      this.more[id]!.delete(slot);
      if (this.more[id]!.size === 0) this.more[id] = undefined;
    } else {
      this.firstSlots[id] = EMPTY;
    }
    drop(value);
  }
}
