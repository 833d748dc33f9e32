// Reference-counted interning: one stored value per distinct key, addressed by a small integer
// id. The RIBs hold ids, never values, so a million routes sharing an attribute set cost one
// object. Ids of freed entries are reused, so a holder must keep a reference for as long as it
// compares or resolves an id.

export class Interner<T> {
  private readonly ids = new Map<string, number>();
  private readonly keys: (string | undefined)[] = [];
  private readonly values: (T | undefined)[] = [];
  private readonly refs: number[] = [];
  private readonly freeIds: number[] = [];

  /** @param onFree called with a value when its last reference goes, to release what it holds. */
  constructor(private readonly onFree?: (value: T, id: number) => void) {}

  /** The id for `key` with one more reference; `make` builds the value when the key is new. */
  intern(key: string, make: () => T): number {
    const existing = this.ids.get(key);
    if (existing !== undefined) {
      this.refs[existing]!++;
      return existing;
    }
    const id = this.freeIds.pop() ?? this.values.length;
    this.ids.set(key, id);
    this.keys[id] = key;
    this.values[id] = make();
    this.refs[id] = 1;
    return id;
  }

  ref(id: number, count = 1): void {
    this.refs[id]! += count;
  }

  release(id: number): void {
    const left = --this.refs[id]!;
    if (left > 0) return;
    if (left < 0) throw new Error(`interned id ${id} released more often than referenced`);
    const value = this.values[id]!;
    this.ids.delete(this.keys[id]!);
    this.keys[id] = undefined;
    this.values[id] = undefined;
    this.freeIds.push(id);
    this.onFree?.(value, id);
  }

  get(id: number): T {
    const value = this.values[id];
    if (value === undefined) throw new Error(`interned id ${id} is not in use`);
    return value;
  }

  refCount(id: number): number {
    return this.values[id] === undefined ? 0 : this.refs[id]!;
  }

  /** Distinct values held. */
  get size(): number {
    return this.ids.size;
  }
}
