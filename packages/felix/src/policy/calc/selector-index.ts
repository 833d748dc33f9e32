// Which items (endpoints) each selector matches, kept current as either side changes: an item
// update evaluates every selector once (O(selectors)); a selector update evaluates every item once
// (O(items)). Changes are reported as match started/stopped, so consumers update only what moved.

import { type Selector, selectorMatches } from '@margay/api';

export type Labels = Readonly<Record<string, string>>;

export interface SelectorIndexCallbacks<S, I> {
  onMatchStarted(selectorId: S, itemId: I): void;
  onMatchStopped(selectorId: S, itemId: I): void;
}

export class SelectorIndex<S, I> {
  private readonly selectors = new Map<S, Selector>();
  private readonly items = new Map<I, Labels>();
  private readonly itemsBySelector = new Map<S, Set<I>>();
  private readonly selectorsByItem = new Map<I, Set<S>>();

  constructor(private readonly callbacks: SelectorIndexCallbacks<S, I>) {}

  /** Adds or replaces a selector; reports the items it newly (no longer) matches. */
  updateSelector(id: S, selector: Selector): void {
    this.selectors.set(id, selector);
    for (const [itemId, labels] of this.items) this.reconcile(id, selector, itemId, labels);
  }

  deleteSelector(id: S): void {
    if (!this.selectors.delete(id)) return;
    const matched = this.itemsBySelector.get(id);
    if (matched === undefined) return;
    for (const itemId of [...matched]) this.unlink(id, itemId);
  }

  /** Adds or replaces an item's labels; reports the selectors it newly (no longer) matches. */
  updateItem(id: I, labels: Labels): void {
    this.items.set(id, labels);
    for (const [selectorId, selector] of this.selectors) this.reconcile(selectorId, selector, id, labels);
  }

  deleteItem(id: I): void {
    if (!this.items.delete(id)) return;
    const matched = this.selectorsByItem.get(id);
    if (matched === undefined) return;
    for (const selectorId of [...matched]) this.unlink(selectorId, id);
  }

  hasSelector(id: S): boolean {
    return this.selectors.has(id);
  }

  /** Items the selector matches now (empty for an unknown selector). */
  itemsMatching(id: S): ReadonlySet<I> {
    return this.itemsBySelector.get(id) ?? EMPTY;
  }

  /** Selectors matching the item now (empty for an unknown item). */
  selectorsMatching(id: I): ReadonlySet<S> {
    return this.selectorsByItem.get(id) ?? EMPTY;
  }

  private reconcile(selectorId: S, selector: Selector, itemId: I, labels: Labels): void {
    const wanted = selectorMatches(selector, labels);
    const current = this.itemsBySelector.get(selectorId)?.has(itemId) ?? false;
    if (wanted && !current) this.link(selectorId, itemId);
    else if (!wanted && current) this.unlink(selectorId, itemId);
  }

  private link(selectorId: S, itemId: I): void {
    addTo(this.itemsBySelector, selectorId, itemId);
    addTo(this.selectorsByItem, itemId, selectorId);
    this.callbacks.onMatchStarted(selectorId, itemId);
  }

  private unlink(selectorId: S, itemId: I): void {
    removeFrom(this.itemsBySelector, selectorId, itemId);
    removeFrom(this.selectorsByItem, itemId, selectorId);
    this.callbacks.onMatchStopped(selectorId, itemId);
  }
}

const EMPTY: ReadonlySet<never> = new Set();

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
