import { type PathView, selectBest } from './decision';

const BASE: PathView = {
  local: false,
  localPref: 100,
  asPathLength: 2,
  origin: 0,
  med: 0,
  neighbourAs: 65001,
  ebgp: true,
  igpCost: undefined,
  clusterListLength: 0,
  routerId: 100,
  peerAddress: 'c0000201',
};

// Each row: the step, the winner, the loser; they differ only in what that step (and, for
// later steps, nothing earlier) looks at. Both orders are tried.
const STEPS: [string, Partial<PathView>, Partial<PathView>][] = [
  ['locally originated wins (weight)', { local: true, localPref: 50 }, { localPref: 200 }],
  ['highest LOCAL_PREF', { localPref: 200, asPathLength: 9 }, { localPref: 100 }],
  ['shortest AS path', { asPathLength: 1, origin: 2 }, { asPathLength: 2 }],
  ['lowest ORIGIN', { origin: 0, med: 99 }, { origin: 1 }],
  ['lowest MED from the same neighbouring AS', { med: 5, ebgp: false }, { med: 10 }],
  ['eBGP over iBGP', { ebgp: true, igpCost: 50 }, { ebgp: false, igpCost: 1 }],
  ['lowest IGP cost', { igpCost: 1, clusterListLength: 5 }, { igpCost: 2 }],
  ['shortest CLUSTER_LIST', { clusterListLength: 0, routerId: 999 }, { clusterListLength: 1 }],
  ['lowest router id', { routerId: 1, peerAddress: 'ffffffff' }, { routerId: 2 }],
  ['lowest peer address', { peerAddress: '0a000001' }, { peerAddress: '0a000002' }],
];

describe('selectBest, one step at a time', () => {
  test.each(STEPS)('%s', (_, winner, loser) => {
    const a = { ...BASE, ...winner };
    const b = { ...BASE, ...loser };
    expect(selectBest([a, b])).toBe(0);
    expect(selectBest([b, a])).toBe(1);
  });

  test('MED is not compared between different neighbouring ASes unless always-compare is on', () => {
    const a = { ...BASE, med: 50, neighbourAs: 65001, routerId: 1 };
    const b = { ...BASE, med: 10, neighbourAs: 65002, routerId: 2 };
    expect(selectBest([a, b])).toBe(0);
    expect(selectBest([a, b], true)).toBe(1);
  });

  test('an unknown IGP cost does not decide', () => {
    const a = { ...BASE, igpCost: undefined, routerId: 1 };
    const b = { ...BASE, igpCost: 1, routerId: 2 };
    expect(selectBest([a, b])).toBe(0);
  });

  test('the choice does not depend on arrival order, even where MED is not transitive', () => {
    // Pairwise, a beats b (MED, same AS), b beats c (IGP cost) and c beats a (IGP cost): a cycle.
    // Elimination removes b by MED first, then picks c by IGP cost, in every order.
    const a = { ...BASE, neighbourAs: 1, med: 1, ebgp: false, igpCost: 5, routerId: 3, peerAddress: '01' };
    const b = { ...BASE, neighbourAs: 1, med: 2, ebgp: false, igpCost: 1, routerId: 2, peerAddress: '02' };
    const c = { ...BASE, neighbourAs: 2, med: 9, ebgp: false, igpCost: 3, routerId: 1, peerAddress: '03' };
    const orders = [
      [a, b, c],
      [a, c, b],
      [b, a, c],
      [b, c, a],
      [c, a, b],
      [c, b, a],
    ];
    const winners = orders.map((paths) => paths[selectBest(paths)]);
    expect(new Set(winners)).toEqual(new Set([c]));
  });

  test('refuses an empty set', () => {
    expect(() => selectBest([])).toThrow('selectBest needs at least one path');
  });
});
