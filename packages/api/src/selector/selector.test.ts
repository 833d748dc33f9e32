import { type Selector, SelectorSyntaxError } from './ast';
import { selectorMatches } from './evaluate';
import { parseSelector } from './parse';
import { selectorToString } from './print';

const labels = { app: 'web', tier: 'frontend', 'k8s.io/role': 'edge-1', empty: '' };

describe('selector evaluation (Calico semantics)', () => {
  test.each([
    ['', true],
    ['   ', true],
    ['all()', true],
    ['app == "web"', true],
    ["app == 'web'", true],
    ['app == "db"', false],
    ['missing == "x"', false],
    ['app != "db"', true],
    ['app != "web"', false],
    ['missing != "x"', true],
    ['app in {"db", "web"}', true],
    ['app in {}', false],
    ['missing in {"x"}', false],
    ['app not in {"db"}', true],
    ['app not in {"web", "db"}', false],
    ['missing not in {"x"}', true],
    ['has(app)', true],
    ['has(missing)', false],
    ['has(empty)', true],
    ['empty == ""', true],
    ['!has(missing)', true],
    ['has(k8s.io/role)', true],
    ['k8s.io/role == "edge-1"', true],
    ['app starts with "we"', true],
    ['app starts with "eb"', false],
    ['app ends with "eb"', true],
    ['app contains "e"', true],
    ['missing contains ""', false],
    ['app == "web" && tier == "frontend"', true],
    ['app == "web" && tier == "backend"', false],
    ['app == "db" || tier == "frontend"', true],
    ['app == "db" || tier == "backend"', false],
    ['!(app == "web" && tier == "backend")', true],
    ['!!has(app)', true],
    ['(app == "db" || app == "web") && !has(missing)', true],
    // && binds tighter than ||
    ['app == "web" || app == "x" && tier == "x"', true],
    ['(app == "web" || app == "x") && tier == "x"', false],
    // keywords are plain labels where a label is expected
    ['has(has)', false],
    ['all == "x"', false],
    ['has(constructor)', false],
    ['app=="web"&&tier!="x"', true],
    ['\tapp\n==\n"web"\t', true],
  ])('%s → %s', (text, expected) => {
    expect(selectorMatches(parseSelector(text), labels)).toBe(expected);
  });
});

describe('selector parse tree', () => {
  test('&& and || are left-associative, && binds tighter', () => {
    expect(parseSelector('has(a) || has(b) && has(c) || has(d)')).toEqual({
      type: 'or',
      left: {
        type: 'or',
        left: { type: 'has', label: 'a' },
        right: { type: 'and', left: { type: 'has', label: 'b' }, right: { type: 'has', label: 'c' } },
      },
      right: { type: 'has', label: 'd' },
    });
  });

  test('the empty selector is all()', () => {
    expect(parseSelector('')).toEqual({ type: 'all' });
  });

  test('set values keep their order and duplicates', () => {
    expect(parseSelector("x in {'b', \"a\", 'b'}")).toEqual({
      type: 'in',
      label: 'x',
      values: ['b', 'a', 'b'],
    });
  });
});

describe('canonical printing', () => {
  test.each([
    ['', 'all()'],
    ["app=='web'", 'app == "web"'],
    ['x in {"a","b"}', 'x in {"a", "b"}'],
    ['x not in {}', 'x not in {}'],
    ['(has(a) && has(b)) || has(c)', 'has(a) && has(b) || has(c)'],
    ['has(a) && (has(b) || has(c))', 'has(a) && (has(b) || has(c))'],
    ['has(a) && (has(b) && has(c))', 'has(a) && (has(b) && has(c))'],
    ['!(has(a) || has(b))', '!(has(a) || has(b))'],
    ['!  has(a)', '!has(a)'],
    ['v == \'say "hi"\'', 'v == \'say "hi"\''],
    ['x starts with "a"', 'x starts with "a"'],
  ])('%s prints as %s', (text, canonical) => {
    expect(selectorToString(parseSelector(text))).toBe(canonical);
  });

  test('a value with both quote characters cannot be written', () => {
    const selector: Selector = { type: 'equals', label: 'x', value: `a"b'c` };
    expect(() => selectorToString(selector)).toThrow(/both quote characters/);
  });

  test('a label with spaces cannot be written', () => {
    expect(() => selectorToString({ type: 'has', label: 'a b' })).toThrow(/label "a b" cannot be written/);
  });
});

describe('syntax errors name the position', () => {
  test.each([
    ['has(a', 5, 'expected ")"'],
    ['app = "web"', 4, 'after label "app"'],
    ['app == web', 7, 'expected a quoted string'],
    ['app == "web', 7, 'unterminated string'],
    ['app in {"a",}', 12, 'expected a quoted string'],
    ['app in "a"', 7, 'expected "{"'],
    ['has(a) &&', 9, 'expected a label'],
    ['has(a) has(b)', 7, 'expected "&&", "||" or the end'],
    ['(has(a)', 7, 'expected ")"'],
    ['has(a))', 6, 'unexpected ")"'],
    ['app not "x"', 4, 'after label "app"'],
    ['all(x)', 4, 'expected ")"'],
    ['&& has(a)', 0, 'expected a label'],
    ['app', 3, 'after label "app"'],
  ])('%s fails at %d', (text, position, problem) => {
    let caught: unknown;
    try {
      parseSelector(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SelectorSyntaxError);
    const error = caught as SelectorSyntaxError;
    expect(error.position).toBe(position);
    expect(error.message).toContain(problem);
    expect(error.message).toContain(JSON.stringify(text));
  });
});
