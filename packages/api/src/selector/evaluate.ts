import type { Selector } from './ast';

/** Calico semantics: `!=` and `not in` match endpoints that lack the label; other tests need it. */
export function selectorMatches(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  switch (selector.type) {
    case 'all':
      return true;
    case 'not':
      return !selectorMatches(selector.operand, labels);
    case 'and':
      return selectorMatches(selector.left, labels) && selectorMatches(selector.right, labels);
    case 'or':
      return selectorMatches(selector.left, labels) || selectorMatches(selector.right, labels);
    default:
      break;
  }
  // Own properties only, so `has(constructor)` is not fooled by Object.prototype.
  const value = Object.hasOwn(labels, selector.label) ? labels[selector.label] : undefined;
  switch (selector.type) {
    case 'has':
      return value !== undefined;
    case 'equals':
      return value === selector.value;
    case 'notEquals':
      return value !== selector.value;
    case 'in':
      return value !== undefined && selector.values.includes(value);
    case 'notIn':
      return value === undefined || !selector.values.includes(value);
    case 'startsWith':
      return value?.startsWith(selector.value) ?? false;
    case 'endsWith':
      return value?.endsWith(selector.value) ?? false;
    case 'contains':
      return value?.includes(selector.value) ?? false;
  }
}
