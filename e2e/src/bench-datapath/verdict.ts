// The verdict rule: is margay within 5 % of a floor? Each round measures margay and the floor back
// to back, so the per-round ratio cancels most of the machine's drift; the verdict looks at the
// median of those ratios and a distribution-free confidence band around it (order statistics of
// the rounds), and only speaks when the whole band sits on one side of the limit.

import { median } from './stats';

/** The margin the issue allows: margay within 5 % of its floor. */
export const TARGET_MARGIN = 0.05;
/** How sure the band must be to contain the true median ratio. */
export const BAND_CONFIDENCE = 0.95;

export type Direction = 'higher-is-better' | 'lower-is-better';

export type Verdict =
  | { readonly kind: 'within' }
  | { readonly kind: 'over' }
  | { readonly kind: 'no verdict'; readonly why: 'spread' | 'rounds' };

export interface RatioSummary {
  readonly rounds: number;
  readonly median: number;
  /** The confidence band of the median ratio (min–max of the rounds for up to 8 rounds). */
  readonly low: number;
  readonly high: number;
  readonly verdict: Verdict;
}

function binomialCdf(n: number, k: number): number {
  let sum = 0;
  let term = 1; // C(n, 0)
  for (let i = 0; i <= k; i++) {
    sum += term;
    term = (term * (n - i)) / (i + 1);
  }
  return sum / 2 ** n;
}

/**
 * The largest k such that [k-th smallest, k-th largest] of n rounds covers the median with at
 * least BAND_CONFIDENCE (distribution-free: each round falls on either side of the true median
 * with probability ½); undefined when even min–max is less sure (fewer than 6 rounds).
 */
export function bandRank(n: number, confidence = BAND_CONFIDENCE): number | undefined {
  let best: number | undefined;
  for (let k = 1; 2 * k <= n; k++) {
    if (1 - 2 * binomialCdf(n, k - 1) >= confidence) best = k;
    else break;
  }
  return best;
}

/**
 * Summarizes per-round margay/floor ratios against the margin: "within" when the whole band is
 * inside the limit, "over" when the whole band is beyond it, else no verdict (the spread is
 * larger than the difference, or too few rounds for a band).
 */
export function summarizeRatios(
  ratios: readonly number[],
  direction: Direction,
  margin = TARGET_MARGIN,
): RatioSummary {
  if (ratios.length === 0) throw new Error('no ratios to summarize');
  for (const [i, r] of ratios.entries())
    if (!Number.isFinite(r) || r <= 0)
      throw new Error(`ratio of round ${i + 1} is not a positive number: ${r}`);
  const sorted = [...ratios].sort((a, b) => a - b);
  const k = bandRank(sorted.length);
  const low = sorted[(k ?? 1) - 1]!;
  const high = sorted[sorted.length - (k ?? 1)]!;
  const limit = direction === 'lower-is-better' ? 1 + margin : 1 - margin;
  const inside = (r: number) => (direction === 'lower-is-better' ? r <= limit : r >= limit);
  let verdict: Verdict;
  if (k === undefined) verdict = { kind: 'no verdict', why: 'rounds' };
  else if (inside(low) && inside(high)) verdict = { kind: 'within' };
  else if (!inside(low) && !inside(high)) verdict = { kind: 'over' };
  else verdict = { kind: 'no verdict', why: 'spread' };
  return { rounds: sorted.length, median: median(sorted), low, high, verdict };
}

export function describeVerdict(verdict: Verdict, margin = TARGET_MARGIN): string {
  const percent = `${Math.round(margin * 100)} %`;
  switch (verdict.kind) {
    case 'within':
      return `within ${percent}`;
    case 'over':
      return `**over ${percent}**`;
    case 'no verdict':
      return verdict.why === 'spread'
        ? 'no verdict (spread larger than the difference)'
        : `no verdict (fewer than ${minimumRounds()} rounds)`;
  }
}

/** The fewest rounds that give a band at BAND_CONFIDENCE. */
export function minimumRounds(confidence = BAND_CONFIDENCE): number {
  let n = 2;
  while (bandRank(n, confidence) === undefined) n++;
  return n;
}
