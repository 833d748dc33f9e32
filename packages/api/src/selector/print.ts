// Canonical text form of a selector: single spaces around binary operators, double quotes
// (single quotes only for a value containing a double quote), and only the parentheses that
// precedence requires. parseSelector(selectorToString(s)) yields a selector deep-equal to s.

import { LABEL_CHARACTER, type Selector } from './ast';

const VALUE_OPERATOR_TEXT = {
  equals: '==',
  notEquals: '!=',
  startsWith: 'starts with',
  endsWith: 'ends with',
  contains: 'contains',
} as const;

/** Binding strength: or < and < everything else. */
function precedence(selector: Selector): number {
  return selector.type === 'or' ? 1 : selector.type === 'and' ? 2 : 3;
}

export function selectorToString(selector: Selector): string {
  switch (selector.type) {
    case 'all':
      return 'all()';
    case 'has':
      return `has(${label(selector.label)})`;
    case 'in':
    case 'notIn': {
      const operator = selector.type === 'in' ? 'in' : 'not in';
      return `${label(selector.label)} ${operator} {${selector.values.map(quote).join(', ')}}`;
    }
    case 'not':
      return `!${operand(selector.operand, 3)}`;
    case 'and':
    case 'or': {
      // Left-associative: an operand of the same operator needs parentheses only on the right.
      const own = precedence(selector);
      const operator = selector.type === 'and' ? '&&' : '||';
      return `${operand(selector.left, own)} ${operator} ${operand(selector.right, own + 1)}`;
    }
    default:
      return `${label(selector.label)} ${VALUE_OPERATOR_TEXT[selector.type]} ${quote(selector.value)}`;
  }
}

function operand(selector: Selector, minimumPrecedence: number): string {
  const text = selectorToString(selector);
  return precedence(selector) < minimumPrecedence ? `(${text})` : text;
}

/** A whole label: one or more label characters. */
const LABEL = new RegExp(`^${LABEL_CHARACTER.source}+$`);

function label(name: string): string {
  if (!LABEL.test(name)) {
    throw new Error(`selector label ${JSON.stringify(name)} cannot be written: use letters, digits, _ . / -`);
  }
  return name;
}

function quote(value: string): string {
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  throw new Error(
    `selector value ${JSON.stringify(value)} cannot be written: it contains both quote characters`,
  );
}
