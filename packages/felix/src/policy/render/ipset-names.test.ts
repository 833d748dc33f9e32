import type { IpSetRef } from '../model';
import { ipSetSpecFor, MAX_IPSET_NAME_LENGTH } from './ipset-names';

describe('ipSetSpecFor', () => {
  const refs: IpSetRef[] = [
    { kind: 'selector', selector: 'app == "a"' },
    { kind: 'selector', selector: 'app == "b"' },
    { kind: 'nets', nets: ['10.0.0.0/8'] },
    { kind: 'named-port', selector: 'all()', protocol: 'tcp', port: 'http' },
    { kind: 'named-port', selector: 'all()', protocol: 'udp', port: 'http' },
    { kind: 'named-port', selector: 'all()', protocol: 'sctp', port: 'http' },
  ];

  test('mg4-<kind letter>-<hash>, within ipset 31 characters, type by kind', () => {
    expect(refs.map((ref) => ipSetSpecFor(ref))).toEqual([
      { name: expect.stringMatching(/^mg4-s-[A-Za-z0-9_-]+$/), type: 'hash:ip' },
      { name: expect.stringMatching(/^mg4-s-/), type: 'hash:ip' },
      { name: expect.stringMatching(/^mg4-n-/), type: 'hash:net' },
      { name: expect.stringMatching(/^mg4-p-/), type: 'hash:ip,port' },
      { name: expect.stringMatching(/^mg4-p-/), type: 'hash:ip,port' },
      { name: expect.stringMatching(/^mg4-p-/), type: 'hash:ip,port' },
    ]);
    for (const ref of refs) expect(ipSetSpecFor(ref).name.length).toBeLessThanOrEqual(MAX_IPSET_NAME_LENGTH);
  });

  test('deterministic, and distinct contents get distinct names', () => {
    const names = refs.map((ref) => ipSetSpecFor(ref).name);
    expect(new Set(names).size).toBe(refs.length);
    expect(refs.map((ref) => ipSetSpecFor({ ...ref }).name)).toEqual(names);
    // A selector and a named-port set over the same selector are different sets.
    expect(ipSetSpecFor({ kind: 'selector', selector: 'all()' }).name).not.toBe(names[3]);
  });

  test('nets are a set: order and duplicates do not change the name', () => {
    const a = ipSetSpecFor({ kind: 'nets', nets: ['10.0.0.0/8', '192.0.2.0/24'] });
    const b = ipSetSpecFor({ kind: 'nets', nets: ['192.0.2.0/24', '10.0.0.0/8', '10.0.0.0/8'] });
    expect(a).toEqual(b);
    expect(ipSetSpecFor({ kind: 'nets', nets: ['10.0.0.0/8'] })).not.toEqual(a);
  });
});
