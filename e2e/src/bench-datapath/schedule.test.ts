import { permutations, roundOrder } from './schedule';

describe('permutations', () => {
  it('lists every order once', () => {
    const all = permutations(['a', 'b', 'c']).map((p) => p.join(''));
    expect(all).toHaveLength(6);
    expect(new Set(all).size).toBe(6);
    expect(permutations(['a'])).toEqual([['a']]);
  });
});

describe('roundOrder', () => {
  const sides = ['margay', 'floor', 'floor+ct'] as const;

  it('puts a different side first in consecutive rounds', () => {
    const firsts = [0, 1, 2, 3, 4, 5].map((r) => roundOrder(sides, r)[0]);
    expect(firsts).toEqual(['margay', 'floor', 'floor+ct', 'margay', 'floor', 'floor+ct']);
  });

  it('over 6 rounds puts each side in each position twice, and uses every order', () => {
    const orders = [0, 1, 2, 3, 4, 5].map((r) => roundOrder(sides, r));
    expect(new Set(orders.map((o) => o.join())).size).toBe(6);
    for (const side of sides)
      for (let position = 0; position < 3; position++)
        expect(orders.filter((o) => o[position] === side)).toHaveLength(2);
    expect(roundOrder(sides, 6)).toEqual(orders[0]);
  });

  it('alternates two sides', () => {
    expect([0, 1, 2].map((r) => roundOrder(['a', 'b'], r).join(''))).toEqual(['ab', 'ba', 'ab']);
  });

  it('rejects a negative or fractional round', () => {
    expect(() => roundOrder(sides, -1)).toThrow(/round -1/);
    expect(() => roundOrder(sides, 0.5)).toThrow(/round 0.5/);
  });
});
