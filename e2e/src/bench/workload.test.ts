import { decodeUpdate, formatIpv4, MessageFramer, prefixStrings } from '@margay/bgp';
import { buildWorkload, checkWorkload, type WorkloadSpec } from './workload';

function decodeAll(spec: WorkloadSpec) {
  const framer = new MessageFramer();
  framer.push(buildWorkload(spec).bytes);
  const ctx = { fourOctetAs: true, extendedMessages: false, ibgp: spec.ibgp };
  const updates = [];
  for (let frame = framer.next(); frame; frame = framer.next()) {
    if (frame.kind === 'error') throw new Error(frame.reason);
    updates.push(decodeUpdate(frame.body, ctx));
  }
  return updates;
}

const base: WorkloadSpec = { routes: 1203, perUpdate: 500, attributeSets: 1, testerAs: 65001, ibgp: false };

describe('buildWorkload', () => {
  it('packs consecutive /32s from 100.0.0.0, perUpdate to a message, with the tester as AS_PATH', () => {
    const updates = decodeAll(base);
    expect(updates.map((u) => u.announced?.lengths.length)).toEqual([500, 500, 203]);
    expect(prefixStrings(updates[0]!.announced!).slice(0, 2)).toEqual(['100.0.0.0/32', '100.0.0.1/32']);
    expect(prefixStrings(updates[2]!.announced!).at(-1)).toBe('100.0.4.178/32');
    const attributes = updates[0]!.attributes!;
    expect(formatIpv4(attributes.nextHop!)).toBe('198.51.100.1');
    expect(attributes.communities).toBeNull();
    expect(updates.every((u) => u.problems.length === 0)).toBe(true);
  });

  it('cycles through distinct attribute sets, one community each', () => {
    const updates = decodeAll({ ...base, routes: 40, perUpdate: 5, attributeSets: 3 });
    expect(updates).toHaveLength(8);
    const communities = updates.map((u) => Array.from(u.attributes!.communities!));
    const first = 65001 * 0x10000;
    expect(communities.slice(0, 4)).toEqual([[first], [first + 1], [first + 2], [first]]);
  });

  it('gives iBGP routes LOCAL_PREF and an empty AS_PATH', () => {
    const [update] = decodeAll({ ...base, routes: 3, ibgp: true, testerAs: 65000 });
    expect(update!.attributes!.localPref).toBe(100);
  });

  it('names the setting that is out of range', () => {
    expect(() => checkWorkload({ ...base, routes: 0 })).toThrow('routes: 0 is not a whole number');
    expect(() => checkWorkload({ ...base, perUpdate: 900 })).toThrow('perUpdate: 900');
    expect(() => checkWorkload({ ...base, attributeSets: 1.5 })).toThrow('attributeSets: 1.5');
  });
});
