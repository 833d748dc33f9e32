// The parsed form of Calico's label selector language.

/** Compares one label's value with a string. */
export type ValueOperator = 'equals' | 'notEquals' | 'startsWith' | 'endsWith' | 'contains';
/** Tests one label's value against a set of strings. */
export type SetOperator = 'in' | 'notIn';

export type Selector =
  | { readonly type: 'all' }
  | { readonly type: 'has'; readonly label: string }
  | { readonly type: ValueOperator; readonly label: string; readonly value: string }
  | { readonly type: SetOperator; readonly label: string; readonly values: readonly string[] }
  | { readonly type: 'not'; readonly operand: Selector }
  | { readonly type: 'and' | 'or'; readonly left: Selector; readonly right: Selector };

/** Characters a label name may contain in a selector (a superset of valid Kubernetes label keys). */
export const LABEL_CHARACTER = /[A-Za-z0-9_./-]/;

export class SelectorSyntaxError extends Error {
  /** 0-based offset into the selector text where the problem was found. */
  readonly position: number;

  constructor(text: string, position: number, problem: string) {
    super(`invalid selector ${JSON.stringify(text)}: ${problem} at position ${position}`);
    this.name = 'SelectorSyntaxError';
    this.position = position;
  }
}
