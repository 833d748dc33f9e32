import { attributeWords } from './word-slab';

describe('attributeWords', () => {
  it('gives zeroed arrays of the size asked that do not overlap', () => {
    const arrays = Array.from({ length: 300 }, (_, i) => attributeWords((i % 7) + 1));
    arrays.forEach((words, i) => {
      expect(words.length).toBe((i % 7) + 1);
      expect(words.every((w) => w === 0)).toBe(true);
      words.fill(i + 1);
    });
    // Writing each array left every other one as it was.
    for (const [i, words] of arrays.entries()) expect(words.every((w) => w === i + 1)).toBe(true);
  });

  it('carves small arrays out of a shared buffer and gives large ones their own', () => {
    // Of three small arrays in a row, at most one starts a new slab.
    const [a, b, c] = [attributeWords(2), attributeWords(2), attributeWords(2)];
    expect(a.buffer === b.buffer || b.buffer === c.buffer).toBe(true);
    expect(a.buffer.byteLength).toBeGreaterThan(8);
    const large = attributeWords(1000);
    expect(large.length).toBe(1000);
    expect(large.byteOffset).toBe(0);
    expect(large.buffer.byteLength).toBe(4000);
  });
});
