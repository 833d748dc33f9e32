import { parseSelector, selectorMatches } from '@margay/api';
import { anchorOf, type Labels, SelectorIndex } from './selector-index';

function recordingIndex() {
  const events: string[] = [];
  const index = new SelectorIndex<string, string>({
    onMatchStarted: (s, i) => events.push(`+${s}:${i}`),
    onMatchStopped: (s, i) => events.push(`-${s}:${i}`),
  });
  return { index, events };
}

describe('SelectorIndex', () => {
  test('reports matches as items and selectors come, change and go', () => {
    const { index, events } = recordingIndex();
    index.updateItem('a', { app: 'web' });
    index.updateSelector('web', parseSelector('app == "web"'));
    index.updateSelector('any', parseSelector('has(app)'));
    expect(events).toEqual(['+web:a', '+any:a']);
    expect([...index.itemsMatching('web')]).toEqual(['a']);
    expect([...index.selectorsMatching('a')].sort()).toEqual(['any', 'web']);

    events.length = 0;
    index.updateItem('a', { app: 'db' });
    index.updateItem('a', { app: 'db' }); // unchanged: nothing
    expect(events).toEqual(['-web:a']);

    events.length = 0;
    index.updateSelector('web', parseSelector('app == "db"'));
    index.deleteItem('a');
    index.deleteItem('a');
    expect(events[0]).toBe('+web:a');
    expect(events.slice(1).sort()).toEqual(['-any:a', '-web:a']);
    expect(index.itemsMatching('web').size).toBe(0);
    expect(index.selectorsMatching('a').size).toBe(0);
  });

  test('deleting a selector stops its matches only', () => {
    const { index, events } = recordingIndex();
    index.updateSelector('all', parseSelector('all()'));
    index.updateSelector('web', parseSelector('app == "web"'));
    index.updateItem('a', { app: 'web' });
    index.updateItem('b', {});
    events.length = 0;
    index.deleteSelector('all');
    index.deleteSelector('missing');
    expect(events.sort()).toEqual(['-all:a', '-all:b']);
    expect(index.hasSelector('all')).toBe(false);
    expect([...index.selectorsMatching('a')]).toEqual(['web']);
  });
});

describe('anchorOf', () => {
  test.each([
    ['app == "web"', { label: 'app', value: 'web' }],
    ['has(app)', { label: 'app' }],
    ['app in {"a", "b"}', { label: 'app' }],
    ['app starts with "w"', { label: 'app' }],
    ['has(role) && ns == "shop"', { label: 'ns', value: 'shop' }],
    ['ns == "shop" && app == "web"', { label: 'ns', value: 'shop' }],
    ['app == "a" || app == "b"', { label: 'app' }],
    ['app == "a" || app == "a"', { label: 'app', value: 'a' }],
    ['app == "a" || role == "b"', undefined],
    ['app != "web"', undefined],
    ['!has(app)', undefined],
    ['app not in {"a"}', undefined],
    ['all()', undefined],
  ])('%s', (text, anchor) => {
    expect(anchorOf(parseSelector(text))).toEqual(anchor);
  });
});

describe('SelectorIndex agrees with evaluating every pair', () => {
  const SELECTORS = [
    'all()',
    'app == "web"',
    'app == "db"',
    'has(app)',
    'ns == "a" && app == "web"',
    'ns == "b" && has(role)',
    'app != "web"',
    '!has(role)',
    'app == "web" || app == "db"',
    'app == "web" || role == "x"',
    'role in {"x", "y"}',
    'ns == "a" && role not in {"x"}',
  ];
  const LABEL_CHOICES: Record<string, readonly (string | undefined)[]> = {
    app: ['web', 'db', undefined],
    ns: ['a', 'b', undefined],
    role: ['x', 'y', undefined],
  };

  /** A small deterministic PRNG (mulberry32), so a failure replays. */
  function random(seed: number) {
    let state = seed;
    return (n: number) => {
      state = (state + 0x6d2b79f5) | 0;
      let t = Math.imul(state ^ (state >>> 15), 1 | state);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) % n;
    };
  }

  test.each([1, 2, 3, 4, 5])('random updates of items and selectors (seed %i)', (seed) => {
    const next = random(seed);
    const matches = new Set<string>();
    const index = new SelectorIndex<string, string>({
      onMatchStarted: (s, i) => {
        expect(matches.has(`${s}|${i}`)).toBe(false);
        matches.add(`${s}|${i}`);
      },
      onMatchStopped: (s, i) => {
        expect(matches.delete(`${s}|${i}`)).toBe(true);
      },
    });
    const items = new Map<string, Labels>();
    const selectors = new Map<string, string>();
    for (let step = 0; step < 400; step++) {
      const op = next(5);
      if (op <= 1) {
        const labels: Record<string, string> = {};
        for (const [label, values] of Object.entries(LABEL_CHOICES)) {
          const value = values[next(values.length)];
          if (value !== undefined) labels[label] = value;
        }
        const id = `i${next(12)}`;
        items.set(id, labels);
        index.updateItem(id, labels);
      } else if (op === 2) {
        const id = `i${next(12)}`;
        items.delete(id);
        index.deleteItem(id);
      } else if (op === 3) {
        const id = `s${next(6)}`;
        const text = SELECTORS[next(SELECTORS.length)]!;
        selectors.set(id, text);
        index.updateSelector(id, parseSelector(text));
      } else {
        const id = `s${next(6)}`;
        selectors.delete(id);
        index.deleteSelector(id);
      }
      const expected = new Set<string>();
      for (const [selectorId, text] of selectors) {
        for (const [itemId, labels] of items) {
          if (selectorMatches(parseSelector(text), labels)) expected.add(`${selectorId}|${itemId}`);
        }
      }
      expect([...matches].sort()).toEqual([...expected].sort());
      for (const selectorId of selectors.keys()) {
        expect([...index.itemsMatching(selectorId)].sort()).toEqual(
          [...expected]
            .filter((m) => m.startsWith(`${selectorId}|`))
            .map((m) => m.split('|')[1])
            .sort(),
        );
      }
    }
  });
});
