// Recursive-descent parser for Calico selectors. Grammar (lowest precedence first):
//
//   selector := or?                      (empty text = all())
//   or       := and ('||' and)*
//   and      := unary ('&&' unary)*
//   unary    := '!' unary | '(' or ')' | 'all' '(' ')' | 'has' '(' label ')' | label comparison
//   comparison := ('==' | '!=' | 'starts with' | 'ends with' | 'contains') string
//              |  ('in' | 'not in') '{' (string (',' string)*)? '}'
//
// Keywords are recognised only where they can occur, so labels named `has`, `all` or `in` work.
// `&&` and `||` are left-associative.

import { type Selector, SelectorSyntaxError, type SetOperator, type ValueOperator } from './ast';

export function parseSelector(text: string): Selector {
  return new Parser(text).parseSelector();
}

const WORD_OPERATORS: Record<string, ValueOperator | SetOperator> = {
  in: 'in',
  contains: 'contains',
  'not in': 'notIn',
  'starts with': 'startsWith',
  'ends with': 'endsWith',
};

class Parser {
  private position = 0;

  constructor(private readonly text: string) {}

  parseSelector(): Selector {
    this.skipSpace();
    if (this.atEnd()) return { type: 'all' };
    const selector = this.parseOr();
    this.skipSpace();
    if (!this.atEnd()) this.fail(`unexpected ${this.describeNext()}, expected "&&", "||" or the end`);
    return selector;
  }

  private parseOr(): Selector {
    let left = this.parseAnd();
    while (this.accept('||')) left = { type: 'or', left, right: this.parseAnd() };
    return left;
  }

  private parseAnd(): Selector {
    let left = this.parseUnary();
    while (this.accept('&&')) left = { type: 'and', left, right: this.parseUnary() };
    return left;
  }

  private parseUnary(): Selector {
    // `!=` never starts an expression, so a leading `!` is always negation.
    if (this.accept('!')) return { type: 'not', operand: this.parseUnary() };
    if (this.accept('(')) {
      const inner = this.parseOr();
      this.expect(')');
      return inner;
    }
    this.skipSpace();
    const label = this.readLabel();
    if (label === '')
      this.fail(`unexpected ${this.describeNext()}, expected a label, "has(", "all()", "!" or "("`);
    if ((label === 'has' || label === 'all') && this.accept('(')) {
      if (label === 'all') {
        this.expect(')');
        return { type: 'all' };
      }
      this.skipSpace();
      const hasLabel = this.readLabel();
      if (hasLabel === '') this.fail(`unexpected ${this.describeNext()}, expected a label`);
      this.expect(')');
      return { type: 'has', label: hasLabel };
    }
    return this.parseComparison(label);
  }

  private parseComparison(label: string): Selector {
    if (this.accept('==')) return { type: 'equals', label, value: this.readString() };
    if (this.accept('!=')) return { type: 'notEquals', label, value: this.readString() };
    this.skipSpace();
    const operatorStart = this.position;
    let operator = this.readWord();
    if (operator === 'not' || operator === 'starts' || operator === 'ends') {
      this.skipSpace();
      operator = `${operator} ${this.readWord()}`;
    }
    const type = WORD_OPERATORS[operator];
    if (type === undefined) {
      this.position = operatorStart;
      this.fail(
        `unexpected ${this.describeNext()} after label "${label}", ` +
          'expected ==, !=, in, not in, starts with, ends with or contains',
      );
    }
    if (type === 'in' || type === 'notIn') return { type, label, values: this.readSet() };
    return { type, label, value: this.readString() };
  }

  private readSet(): string[] {
    this.expect('{');
    const values: string[] = [];
    if (this.accept('}')) return values;
    do values.push(this.readString());
    while (this.accept(','));
    this.expect('}');
    return values;
  }

  private readString(): string {
    this.skipSpace();
    const quote = this.text[this.position];
    if (quote !== '"' && quote !== "'")
      this.fail(`unexpected ${this.describeNext()}, expected a quoted string`);
    const end = this.text.indexOf(quote, this.position + 1);
    if (end < 0) this.fail(`unterminated string starting with ${quote}`);
    const value = this.text.slice(this.position + 1, end);
    this.position = end + 1;
    return value;
  }

  // Character codes, not a regular expression per character: felix parses every policy's
  // selectors at start, and a test per character cost a one-character string each.

  private readLabel(): string {
    const start = this.position;
    while (this.position < this.text.length && isLabelCode(this.text.charCodeAt(this.position))) {
      this.position++;
    }
    return this.text.slice(start, this.position);
  }

  /** [a-z]+ from the current position ('' if none). */
  private readWord(): string {
    const start = this.position;
    while (this.position < this.text.length && isLowercaseCode(this.text.charCodeAt(this.position))) {
      this.position++;
    }
    return this.text.slice(start, this.position);
  }

  /** Consumes `token` (after optional white space) if it is next. */
  private accept(token: string): boolean {
    this.skipSpace();
    if (!this.text.startsWith(token, this.position)) return false;
    this.position += token.length;
    return true;
  }

  private expect(token: string): void {
    if (!this.accept(token)) this.fail(`unexpected ${this.describeNext()}, expected "${token}"`);
  }

  private skipSpace(): void {
    while (isSpaceAt(this.text, this.position)) this.position++;
  }

  private atEnd(): boolean {
    return this.position >= this.text.length;
  }

  private describeNext(): string {
    return this.atEnd() ? 'end of selector' : JSON.stringify(this.text[this.position]);
  }

  private fail(problem: string): never {
    throw new SelectorSyntaxError(this.text, this.position, problem);
  }
}

/** The characters LABEL_CHARACTER matches: A-Z a-z 0-9 _ . / - */
function isLabelCode(code: number): boolean {
  return (
    (code >= 97 && code <= 122) || // a-z
    (code >= 65 && code <= 90) || // A-Z
    (code >= 48 && code <= 57) || // 0-9
    code === 95 || // _
    code === 46 || // .
    code === 47 || // /
    code === 45 // -
  );
}

function isLowercaseCode(code: number): boolean {
  return code >= 97 && code <= 122;
}

/** Whether `\s` matches at `index`: ASCII white space decided by code, the rest by the expression. */
function isSpaceAt(text: string, index: number): boolean {
  if (index >= text.length) return false;
  const code = text.charCodeAt(index);
  if (code === 32 || (code >= 9 && code <= 13)) return true;
  return code >= 128 && /\s/.test(text[index]!);
}
