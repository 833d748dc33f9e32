// Which items (endpoints) each selector matches, kept current as either side changes. Changes are
// reported as match started/stopped, so consumers update only what moved.
//
// Most selectors can only match items carrying one label (`ns == "shop" && ...`, `has(app)`): that
// label is the selector's anchor, and selectors are indexed by it, so an item update evaluates
// only the selectors anchored on its own labels (plus the unanchored ones and those it matched
// before), and a selector update only the items carrying its anchor. At 10,000 endpoints and
// 1,000 namespaced policies this is a fraction of evaluating every pair. Items are indexed only
// by the labels some selector was anchored on (a handful: the namespace, app, role), built when
// the first such selector comes: an index entry for every label of every item cost more than it
// saved.

import { type Selector, selectorMatches } from '@margay/api';

export type Labels = Readonly<Record<string, string>>;

/** Called while the index iterates its own sets: they must not update the index. */
export interface SelectorIndexCallbacks<S, I> {
  onMatchStarted(selectorId: S, itemId: I): void;
  onMatchStopped(selectorId: S, itemId: I): void;
}

/**
 * A label every item the selector matches must carry; with `value`, carry with that value. Always
 * both fields (value undefined when any value will do): one object shape for the code reading them.
 */
export type Anchor = { readonly label: string; readonly value: string | undefined } | undefined;

export class SelectorIndex<S, I> {
  private readonly selectors = new Map<S, { readonly selector: Selector; readonly anchor: Anchor }>();
  private readonly items = new Map<I, Labels>();
  private readonly itemsBySelector = new Map<S, Set<I>>();
  private readonly selectorsByItem = new Map<I, Set<S>>();
  // The anchor indexes: by label then value (equality anchors) and by label (presence anchors).
  // Nested maps rather than a `label=value` key: an item update then builds no strings.
  private readonly selectorsByPair = new Map<string, Map<string, Set<S>>>();
  private readonly selectorsByLabel = new Map<string, Set<S>>();
  private readonly unanchored = new Set<S>();
  /** Anchor label → value → the items carrying it; only for labels selectors were anchored on. */
  private readonly itemsByLabel = new Map<string, Map<string, Set<I>>>();

  constructor(private readonly callbacks: SelectorIndexCallbacks<S, I>) {}

  /** Adds or replaces a selector; reports the items it newly (no longer) matches. */
  updateSelector(id: S, selector: Selector): void {
    this.unregisterSelector(id);
    const anchor = anchorOf(selector);
    this.selectors.set(id, { selector, anchor });
    if (anchor === undefined) this.unanchored.add(id);
    else if (anchor.value === undefined) addTo(this.selectorsByLabel, anchor.label, id);
    else addTo(nested(this.selectorsByPair, anchor.label), anchor.value, id);

    const previous = [...this.itemsMatching(id)];
    for (const itemId of this.candidateItems(anchor)) {
      this.reconcile(id, selector, itemId, this.items.get(itemId)!);
    }
    // Matched before but without the new anchor (so not visited): no match any more.
    for (const itemId of previous) {
      const labels = this.items.get(itemId)!;
      if (anchor !== undefined && !carries(labels, anchor)) this.unlink(id, itemId);
    }
  }

  /** Every item that may match a selector with this anchor. */
  private candidateItems(anchor: Anchor): Iterable<I> {
    if (anchor === undefined) return this.items.keys();
    const byValue = this.labelIndex(anchor.label);
    if (anchor.value !== undefined) return byValue.get(anchor.value) ?? EMPTY;
    const all: I[] = [];
    for (const items of byValue.values()) all.push(...items);
    return all;
  }

  /** The items by value of one label, indexed from now on. */
  private labelIndex(label: string): Map<string, Set<I>> {
    let byValue = this.itemsByLabel.get(label);
    if (byValue === undefined) {
      byValue = new Map();
      this.itemsByLabel.set(label, byValue);
      for (const [itemId, labels] of this.items) {
        if (Object.hasOwn(labels, label)) addTo(byValue, labels[label]!, itemId);
      }
    }
    return byValue;
  }

  // `for in`, not Object.keys: the same order for these plain records, without an array per call.
  private indexItemLabels(id: I, labels: Labels, add: boolean): void {
    if (this.itemsByLabel.size === 0) return;
    for (const label in labels) {
      const byValue = this.itemsByLabel.get(label);
      if (byValue === undefined) continue;
      if (add) addTo(byValue, labels[label]!, id);
      else removeFrom(byValue, labels[label]!, id);
    }
  }

  deleteSelector(id: S): void {
    if (!this.selectors.has(id)) return;
    this.unregisterSelector(id);
    this.selectors.delete(id);
    const matched = this.itemsBySelector.get(id);
    if (matched === undefined) return;
    for (const itemId of [...matched]) this.unlink(id, itemId);
  }

  /** Adds or replaces an item's labels; reports the selectors it newly (no longer) matches. */
  updateItem(id: I, labels: Labels): void {
    const old = this.items.get(id);
    if (old !== undefined) this.indexItemLabels(id, old, false);
    this.items.set(id, labels);
    this.indexItemLabels(id, labels, true);
    // Matched before (copied: reconciling changes the set). Usually none: at the initial
    // snapshot every item is new, and this path allocates nothing per item but its matches.
    const matchedBefore = this.selectorsByItem.get(id);
    const previous = matchedBefore === undefined ? undefined : Array.from(matchedBefore);
    // Each selector has one anchor, so it is reached at most once over these loops: no set of
    // candidates is needed.
    for (const selectorId of this.unanchored) this.reconcileById(selectorId, id, labels);
    for (const label in labels) this.reconcileAnchoredOn(label, labels[label]!, id, labels);
    if (previous !== undefined) this.unlinkWithoutAnchor(previous, id, labels);
  }

  /** Reconciles the item with the selectors anchored on one of its labels. */
  private reconcileAnchoredOn(label: string, value: string, id: I, labels: Labels): void {
    const byLabel = this.selectorsByLabel.get(label);
    if (byLabel !== undefined) for (const selectorId of byLabel) this.reconcileById(selectorId, id, labels);
    const byPair = this.selectorsByPair.get(label)?.get(value);
    if (byPair !== undefined) for (const selectorId of byPair) this.reconcileById(selectorId, id, labels);
  }

  /** Matched before but without the selector's anchor now (so not visited): no match any more. */
  private unlinkWithoutAnchor(previous: readonly S[], id: I, labels: Labels): void {
    for (const selectorId of previous) {
      const anchor = this.selectors.get(selectorId)?.anchor;
      if (anchor !== undefined && !carries(labels, anchor)) this.unlink(selectorId, id);
    }
  }

  deleteItem(id: I): void {
    const labels = this.items.get(id);
    if (labels === undefined) return;
    this.indexItemLabels(id, labels, false);
    this.items.delete(id);
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

  private unregisterSelector(id: S): void {
    const known = this.selectors.get(id);
    if (known === undefined) return;
    const { anchor } = known;
    if (anchor === undefined) this.unanchored.delete(id);
    else if (anchor.value === undefined) removeFrom(this.selectorsByLabel, anchor.label, id);
    else {
      const byValue = this.selectorsByPair.get(anchor.label);
      if (byValue === undefined) return;
      removeFrom(byValue, anchor.value, id);
      if (byValue.size === 0) this.selectorsByPair.delete(anchor.label);
    }
  }

  private reconcileById(selectorId: S, itemId: I, labels: Labels): void {
    this.reconcile(selectorId, this.selectors.get(selectorId)!.selector, itemId, labels);
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

/**
 * A label every match must carry, preferring one with a required value (the most selective):
 * `==` gives label and value; `has`, `in` and the string tests give the label; either side of
 * `&&`; `||` only when both sides agree; `!`, `!=`, `not in` and `all()` match items without the
 * label, so give none.
 */
export function anchorOf(selector: Selector): Anchor {
  switch (selector.type) {
    case 'equals':
      return { label: selector.label, value: selector.value };
    case 'has':
    case 'in':
    case 'startsWith':
    case 'endsWith':
    case 'contains':
      return { label: selector.label, value: undefined };
    case 'and': {
      const left = anchorOf(selector.left);
      const right = anchorOf(selector.right);
      if (left?.value !== undefined) return left;
      return right?.value !== undefined ? right : (left ?? right);
    }
    case 'or': {
      const left = anchorOf(selector.left);
      const right = anchorOf(selector.right);
      if (left === undefined || right === undefined || left.label !== right.label) return undefined;
      return left.value !== undefined && left.value === right.value
        ? left
        : { label: left.label, value: undefined };
    }
    default:
      return undefined;
  }
}

/** Whether the labels hold the anchor label (with its value, for an equality anchor). */
function carries(labels: Labels, anchor: NonNullable<Anchor>): boolean {
  if (!Object.hasOwn(labels, anchor.label)) return false;
  return anchor.value === undefined || labels[anchor.label] === anchor.value;
}

const EMPTY: ReadonlySet<never> = new Set();

/** The inner map under `key`, created if absent. */
function nested<K, L, V>(map: Map<K, Map<L, V>>, key: K): Map<L, V> {
  let inner = map.get(key);
  if (inner === undefined) {
    inner = new Map();
    map.set(key, inner);
  }
  return inner;
}

/** Adds `value` to the set under `key`, creating it. */
export function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

/** Removes `value` from the set under `key`, dropping the set once empty. */
export function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
