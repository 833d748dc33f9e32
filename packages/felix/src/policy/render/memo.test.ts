import { TextMemo } from './memo';

describe('TextMemo', () => {
  test('computes a key once and hands back the remembered result', () => {
    const memo = new TextMemo<{ text: string }>();
    let computed = 0;
    const compute = (text: string) => () => {
      computed++;
      return { text };
    };
    const first = memo.get('a', compute('a'));
    expect(memo.get('a', compute('other'))).toBe(first);
    expect(memo.get('b', compute('b'))).toEqual({ text: 'b' });
    expect(computed).toBe(2);
  });

  test('a computation that throws is not remembered', () => {
    const memo = new TextMemo<number>();
    expect(() =>
      memo.get('bad', () => {
        throw new Error('no');
      }),
    ).toThrow('no');
    expect(memo.get('bad', () => 7)).toBe(7);
  });

  test('stays within its bound (it starts over when full)', () => {
    const memo = new TextMemo<number>(3);
    for (let i = 0; i < 10; i++) memo.get(String(i), () => i);
    expect(memo.size).toBeLessThanOrEqual(3);
    expect(memo.get('9', () => -1)).toBe(9);
    expect(memo.get('0', () => -1)).toBe(-1);
  });
});
