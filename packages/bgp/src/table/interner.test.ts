import { Interner } from './interner';

describe('Interner', () => {
  test('one value per key, counted references, ids reused after the last release', () => {
    const freed: string[] = [];
    const interner = new Interner<string>((value) => freed.push(value));
    const made: string[] = [];
    const make = (v: string) => () => {
      made.push(v);
      return v;
    };
    const a = interner.intern('a', make('A'));
    expect(interner.intern('a', make('A2'))).toBe(a);
    expect(made).toEqual(['A']);
    expect(interner.refCount(a)).toBe(2);
    interner.ref(a, 3);
    for (let i = 0; i < 4; i++) interner.release(a);
    expect(interner.get(a)).toBe('A');
    interner.release(a);
    expect(freed).toEqual(['A']);
    expect(interner.size).toBe(0);
    expect(() => interner.get(a)).toThrow(`interned id ${a} is not in use`);
    expect(interner.intern('b', make('B'))).toBe(a);
  });

  test('releasing too often is an error', () => {
    const interner = new Interner<number>();
    const id = interner.intern('x', () => 1);
    interner.release(id);
    expect(() => interner.release(id)).toThrow(`interned id ${id} released more often than referenced`);
  });
});
