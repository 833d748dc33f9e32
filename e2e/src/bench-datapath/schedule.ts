// Which side goes first in each round: drift in the machine's load (other jobs starting and
// stopping) must hit margay and its floors alike, so the rounds cycle through every order of the
// sides; over a multiple of n! rounds each side is measured first, middle and last equally often.

/** All orders of `items`, in a fixed sequence. */
export function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/**
 * The order of `sides` in round `round` (0-based). Consecutive rounds put different sides first,
 * so even two rounds alternate which side leads.
 */
export function roundOrder<T>(sides: readonly T[], round: number): T[] {
  if (!Number.isInteger(round) || round < 0) throw new Error(`round ${round} is not a whole number ≥ 0`);
  const all = permutations(sides);
  // Reorder so that consecutive entries start with different sides: take the permutations
  // grouped by their position in each block of (n-1)! (same first side), round-robin.
  const block = all.length / Math.max(1, sides.length);
  const interleaved: T[][] = [];
  for (let j = 0; j < block; j++)
    for (let i = 0; i < sides.length; i++) interleaved.push(all[i * block + j]!);
  return interleaved[round % interleaved.length]!;
}
