import fc from 'fast-check';
import { type Selector, SelectorSyntaxError } from './ast';
import { selectorMatches } from './evaluate';
import { parseSelector } from './parse';
import { selectorToString } from './print';

// A small label vocabulary, so that generated label maps often hit the labels selectors test.
// Keywords are included on purpose: they are ordinary labels wherever a label is expected.
const LABELS = ['app', 'k8s.io/role', 'tier_1', 'has', 'all', 'in', 'not', 'starts', 'contains'];
const VALUES = ['', 'web', 'db', 'we', 'eb', 'say "hi"', "it's"];

const label = fc.constantFrom(...LABELS);
const value = fc.constantFrom(...VALUES);
const labelMap = fc.dictionary(label, value, { maxKeys: LABELS.length });

const selectorTree = fc.letrec<{ selector: Selector }>((tie) => ({
  selector: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<Selector>({ type: 'all' }),
    label.map((l): Selector => ({ type: 'has', label: l })),
    fc
      .tuple(
        fc.constantFrom('equals', 'notEquals', 'startsWith', 'endsWith', 'contains' as const),
        label,
        value,
      )
      .map(([type, l, v]): Selector => ({ type, label: l, value: v })),
    fc
      .tuple(fc.constantFrom('in', 'notIn' as const), label, fc.array(value, { maxLength: 3 }))
      .map(([type, l, values]): Selector => ({ type, label: l, values })),
    tie('selector').map((operand): Selector => ({ type: 'not', operand })),
    fc
      .tuple(fc.constantFrom('and', 'or' as const), tie('selector'), tie('selector'))
      .map(([type, left, right]): Selector => ({ type, left, right })),
  ),
})).selector;

/**
 * Selector text built independently of the printer (random spacing and quoting, redundant
 * parentheses), paired with a predicate written directly from Calico's documented semantics.
 */
interface Sample {
  text: string;
  matches: (labels: Record<string, string>) => boolean;
}

const space = fc.constantFrom('', ' ', '  ', '\t', '\n ');
const quoted = (v: string) =>
  v.includes('"')
    ? fc.constant(`'${v}'`)
    : v.includes("'")
      ? fc.constant(`"${v}"`)
      : fc.constantFrom(`"${v}"`, `'${v}'`);

const sample = fc.letrec<{ sample: Sample }>((tie) => ({
  sample: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom<Sample>({ text: 'all()', matches: () => true }, { text: 'all( )', matches: () => true }),
    fc.tuple(label, space).map(([l, s]): Sample => ({ text: `has(${s}${l}${s})`, matches: (m) => l in m })),
    fc
      .tuple(label, value, space, fc.constantFrom('==', '!=', 'starts with', 'ends with', 'contains'))
      .chain(([l, v, s, op]) =>
        quoted(v).map(
          (q): Sample => ({
            // A word operator must be separated from the label, whose characters include letters.
            text: `${l}${/^[a-z]/.test(op) ? ` ${s}` : s}${op}${s}${q}`,
            matches: (m) => {
              const actual = m[l];
              if (op === '!=') return actual !== v;
              if (actual === undefined) return false;
              if (op === '==') return actual === v;
              if (op === 'starts with') return actual.startsWith(v);
              if (op === 'ends with') return actual.endsWith(v);
              return actual.includes(v);
            },
          }),
        ),
      ),
    fc.tuple(label, fc.array(value, { maxLength: 3 }), fc.boolean(), space).chain(([l, values, negated, s]) =>
      fc.tuple(...values.map(quoted)).map(
        (quotedValues): Sample => ({
          text: `${l} ${negated ? 'not  in' : 'in'}${s}{${s}${quotedValues.join(`${s},`)}${s}}`,
          matches: (m) => (m[l] !== undefined && values.includes(m[l])) !== negated,
        }),
      ),
    ),
    fc
      .tuple(tie('sample'), space)
      .map(([inner, s]): Sample => ({ text: `!${s}(${inner.text})`, matches: (m) => !inner.matches(m) })),
    fc
      .tuple(tie('sample'), space)
      .map(([inner, s]): Sample => ({ text: `(${s}${inner.text}${s})`, matches: inner.matches })),
    fc.tuple(tie('sample'), tie('sample'), fc.boolean()).map(
      ([left, right, isAnd]): Sample => ({
        text: `(${left.text})${isAnd ? '&&' : ' || '}(${right.text})`,
        matches: (m) => (isAnd ? left.matches(m) && right.matches(m) : left.matches(m) || right.matches(m)),
      }),
    ),
  ),
})).sample;

const matches = (selector: Selector, labels: Record<string, string>) => selectorMatches(selector, labels);

describe('selector properties', () => {
  test('printing then parsing gives back the same tree', () => {
    fc.assert(
      fc.property(selectorTree, (selector) => {
        expect(parseSelector(selectorToString(selector))).toEqual(selector);
      }),
      { numRuns: 500 },
    );
  });

  test('evaluation agrees with a direct reference evaluation of independently built text', () => {
    fc.assert(
      fc.property(sample, labelMap, ({ text, matches: reference }, labels) => {
        expect(matches(parseSelector(text), labels)).toBe(reference(labels));
      }),
      { numRuns: 1000 },
    );
  });

  test('De Morgan: !(a && b) ≡ !a || !b and !(a || b) ≡ !a && !b', () => {
    fc.assert(
      fc.property(selectorTree, selectorTree, labelMap, (a, b, labels) => {
        const [A, B] = [selectorToString(a), selectorToString(b)];
        expect(matches(parseSelector(`!((${A}) && (${B}))`), labels)).toBe(
          matches(parseSelector(`!(${A}) || !(${B})`), labels),
        );
        expect(matches(parseSelector(`!((${A}) || (${B}))`), labels)).toBe(
          matches(parseSelector(`!(${A}) && !(${B})`), labels),
        );
      }),
      { numRuns: 500 },
    );
  });

  test('!= and not in are the negations of == and in', () => {
    fc.assert(
      fc.property(label, value, fc.array(value, { maxLength: 3 }), labelMap, (l, v, values, labels) => {
        expect(matches({ type: 'notEquals', label: l, value: v }, labels)).toBe(
          !matches({ type: 'equals', label: l, value: v }, labels),
        );
        expect(matches({ type: 'notIn', label: l, values }, labels)).toBe(
          !matches({ type: 'in', label: l, values }, labels),
        );
      }),
    );
  });

  test('any text either parses or fails with a SelectorSyntaxError at a position inside it', () => {
    const selectorish = fc.string({
      unit: fc.constantFrom(...'ab()!&|="\' {},.inothas'.split('')),
      maxLength: 30,
    });
    fc.assert(
      fc.property(fc.oneof(fc.string(), selectorish), (text) => {
        try {
          parseSelector(text);
        } catch (error) {
          expect(error).toBeInstanceOf(SelectorSyntaxError);
          const { position } = error as SelectorSyntaxError;
          expect(position).toBeGreaterThanOrEqual(0);
          expect(position).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
