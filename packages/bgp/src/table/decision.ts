// Best-path selection, RFC 4271 §9.1.2.2 with the usual extensions. Each step keeps only the
// candidates that are best by it, in this order:
//   0. locally originated paths (weight) over learned ones
//   1. highest LOCAL_PREF (absent: 100)
//   2. shortest AS path (an AS_SET counts 1, confederation segments 0)
//   3. lowest ORIGIN (IGP < EGP < INCOMPLETE)
//   4. lowest MED (absent: 0), compared only among paths from the same neighbouring AS
//      unless always-compare is on
//   5. eBGP-learned over iBGP-learned
//   6. lowest IGP cost to the next hop, when the cost of every candidate is known
//   7. shortest CLUSTER_LIST (RFC 4456 §9)
//   8. lowest router id (ORIGINATOR_ID when present, else the peer's BGP identifier)
//   9. lowest peer address
// Eliminating step by step, rather than sorting with a pairwise comparator, keeps the result
// independent of the order paths arrived in even though MED comparison is not transitive.

export const DEFAULT_LOCAL_PREF = 100;

/** What selection needs to know of one path. */
export interface PathView {
  readonly local: boolean;
  readonly localPref: number;
  readonly asPathLength: number;
  readonly origin: number;
  readonly med: number;
  /** First AS of the path; our own AS for paths with an empty AS path. */
  readonly neighbourAs: number;
  readonly ebgp: boolean;
  readonly igpCost: number | undefined;
  readonly clusterListLength: number;
  readonly routerId: number;
  /** Comparable form of the peer address (see Peer.addressOrder). */
  readonly peerAddress: string;
}

type Step = (candidates: readonly PathView[], alwaysCompareMed: boolean) => PathView[];

function keepLowest(measure: (p: PathView) => number): Step {
  return (candidates) => {
    let best = Number.POSITIVE_INFINITY;
    for (const p of candidates) best = Math.min(best, measure(p));
    return candidates.filter((p) => measure(p) === best);
  };
}

const byMed: Step = (candidates, alwaysCompareMed) => {
  const lowest = new Map<number, number>();
  const group = (p: PathView): number => (alwaysCompareMed ? 0 : p.neighbourAs);
  for (const p of candidates) lowest.set(group(p), Math.min(lowest.get(group(p)) ?? p.med, p.med));
  return candidates.filter((p) => p.med === lowest.get(group(p)));
};

const byIgpCost: Step = (candidates) => {
  if (candidates.some((p) => p.igpCost === undefined)) return [...candidates];
  const best = Math.min(...candidates.map((p) => p.igpCost!));
  return candidates.filter((p) => p.igpCost === best);
};

const byPeerAddress: Step = (candidates) => {
  let best = candidates[0]!;
  for (const p of candidates) if (p.peerAddress < best.peerAddress) best = p;
  return [best];
};

const STEPS: readonly Step[] = [
  keepLowest((p) => (p.local ? 0 : 1)),
  keepLowest((p) => -p.localPref),
  keepLowest((p) => p.asPathLength),
  keepLowest((p) => p.origin),
  byMed,
  keepLowest((p) => (p.ebgp ? 0 : 1)),
  byIgpCost,
  keepLowest((p) => p.clusterListLength),
  keepLowest((p) => p.routerId),
  byPeerAddress,
];

/** Index in `paths` of the best path; paths must be non-empty. */
export function selectBest(paths: readonly PathView[], alwaysCompareMed = false): number {
  if (paths.length === 0) throw new Error('selectBest needs at least one path');
  let candidates: readonly PathView[] = paths;
  for (const step of STEPS) {
    if (candidates.length === 1) break;
    candidates = step(candidates, alwaysCompareMed);
  }
  return paths.indexOf(candidates[0]!);
}
