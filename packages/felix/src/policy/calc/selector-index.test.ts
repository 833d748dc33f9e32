import { parseSelector } from '@margay/api';
import { SelectorIndex } from './selector-index';

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
