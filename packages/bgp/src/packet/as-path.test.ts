import fc from 'fast-check';
import {
  as4PathFor,
  asPathContains,
  asPathFromSegments,
  asPathLength,
  asPathSegments,
  asPathToString,
  asPathValueSize,
  asSequence,
  EMPTY_AS_PATH,
  mergeAs4Path,
  prependAs,
  readAsPath,
  scanAsPath,
  writeAsPath,
} from './as-path';
import { AS_TRANS, AsPathSegmentType } from './constants';

const { AsSet, AsSequence, AsConfedSequence, AsConfedSet } = AsPathSegmentType;
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('AS paths', () => {
  const mixed = asPathFromSegments([
    { type: AsConfedSequence, asns: [64512] },
    { type: AsSequence, asns: [65001, 65002] },
    { type: AsSet, asns: [65003, 65004] },
  ]);

  test('are stored flat: [type, count, AS...]', () => {
    expect(Array.from(mixed)).toEqual([3, 1, 64512, 2, 2, 65001, 65002, 1, 2, 65003, 65004]);
    expect(asPathSegments(mixed)[2]).toEqual({ type: AsSet, asns: [65003, 65004] });
  });

  test('length counts sequences per AS, a set as one, confederation segments as none', () => {
    expect(asPathLength(mixed)).toBe(3);
    expect(asPathLength(EMPTY_AS_PATH)).toBe(0);
  });

  test('contains finds an AS in any segment (loop detection)', () => {
    expect(asPathContains(mixed, 65004)).toBe(true);
    expect(asPathContains(mixed, 64512)).toBe(true);
    expect(asPathContains(mixed, 65005)).toBe(false);
  });

  test('prepend joins the leading AS_SEQUENCE, or opens one', () => {
    expect(asPathToString(prependAs(asSequence([65001]), 65000, 2))).toBe('65000 65000 65001');
    expect(asPathSegments(prependAs(asSequence([65001]), 65000))).toHaveLength(1);
    expect(asPathToString(prependAs(mixed, 65000))).toBe('65000 (64512) 65001 65002 {65003,65004}');
    expect(asPathToString(prependAs(EMPTY_AS_PATH, 65000))).toBe('65000');
  });

  test('prepend splits a sequence that would exceed 255 AS numbers', () => {
    const long = prependAs(asSequence(new Array(250).fill(65001)), 65000, 10);
    expect(asPathSegments(long).map((s) => s.asns.length)).toEqual([255, 5]);
    expect(asPathLength(long)).toBe(260);
  });

  test('prints like router CLIs', () => {
    expect(
      asPathToString(
        asPathFromSegments([
          { type: AsConfedSequence, asns: [1, 2] },
          { type: AsConfedSet, asns: [3] },
          { type: AsSequence, asns: [4] },
          { type: AsSet, asns: [5, 6] },
        ]),
      ),
    ).toBe('(1 2) [3] 4 {5,6}');
  });

  test('building rejects what the wire cannot carry', () => {
    expect(() => asPathFromSegments([{ type: AsSequence, asns: [] }])).toThrow(/1\.\.255/);
    expect(() => asPathFromSegments([{ type: 7 as AsPathSegmentType, asns: [1] }])).toThrow(/unknown type 7/);
    expect(() => asSequence([0])).toThrow(/0 is not an AS number/);
    expect(() => prependAs(EMPTY_AS_PATH, 65000, 0)).toThrow(/0 times/);
  });

  test('wire form with four-octet and two-octet AS numbers (RFC 4271 §4.3, RFC 6793)', () => {
    const path = asSequence([65001, 4200000000]);
    const four = Buffer.alloc(asPathValueSize(path, 4));
    writeAsPath(four, 0, path, 4);
    expect(four).toEqual(hex('02 02 0000fde9 fa56ea00'));
    const two = Buffer.alloc(asPathValueSize(path, 2));
    writeAsPath(two, 0, path, 2);
    expect(two).toEqual(hex(`02 02 fde9 ${AS_TRANS.toString(16).padStart(4, '0')}`));
    expect(readAsPath(four, 0, four.length, 4, scanAsPath(four, 0, four.length, 4))).toEqual(path);
  });

  test.each([
    ['segment overrunning the value', '02 03 0000fde9'],
    ['zero-length segment', '02 00'],
    ['unknown segment type', '05 01 0000fde9'],
    ['a lone trailing octet', '02 01 0000fde9 02'],
    ['AS 0 (RFC 7607)', '02 01 00000000'],
  ])('scan rejects %s', (_name, value) => {
    const buf = hex(value);
    expect(scanAsPath(buf, 0, buf.length, 4)).toBe(-1);
  });

  test('AS4_PATH for a two-octet session drops confederation segments, and is needed only for wide AS numbers', () => {
    expect(as4PathFor(asSequence([65001, 65002]))).toBeNull();
    const wide = asPathFromSegments([
      { type: AsConfedSequence, asns: [64512] },
      { type: AsSequence, asns: [65001, 4200000000] },
    ]);
    expect(asPathToString(as4PathFor(wide)!)).toBe('65001 4200000000');
  });

  describe('RFC 6793 §4.2.3 merge', () => {
    test('takes the leading AS numbers AS4_PATH lacks from AS_PATH', () => {
      // An OLD speaker 65002 prepended itself to a path that held 4200000000 and 4200000001.
      const asPath = asSequence([65002, AS_TRANS, AS_TRANS]);
      const as4Path = asSequence([4200000000, 4200000001]);
      expect(asPathToString(mergeAs4Path(asPath, as4Path))).toBe('65002 4200000000 4200000001');
    });

    test('ignores an AS4_PATH longer than AS_PATH', () => {
      const asPath = asSequence([AS_TRANS]);
      expect(mergeAs4Path(asPath, asSequence([1, 2]))).toBe(asPath);
    });

    test('keeps a leading confederation segment and a set counts as one AS', () => {
      const asPath = asPathFromSegments([
        { type: AsConfedSequence, asns: [64512] },
        { type: AsSet, asns: [65010, 65011] },
        { type: AsSequence, asns: [AS_TRANS] },
      ]);
      expect(asPathToString(mergeAs4Path(asPath, asSequence([4200000000])))).toBe(
        '(64512) {65010,65011} 4200000000',
      );
    });

    test('property: merging the AS4_PATH made for a path restores it (leading confederation segments only)', () => {
      const asn = fc.oneof(
        fc.integer({ min: 1, max: 0xffff }),
        fc.integer({ min: 0x10000, max: 0xffffffff }),
      );
      const segment = (type: AsPathSegmentType, member = asn) =>
        fc.array(member, { minLength: 1, maxLength: 6 }).map((asns) => ({ type, asns }));
      // Confederation members reach a two-octet speaker only as two-octet numbers.
      const confedMember = fc.integer({ min: 1, max: 0xffff });
      const pathArb = fc
        .tuple(
          fc.array(segment(AsConfedSequence, confedMember), { maxLength: 1 }),
          fc.array(fc.oneof(segment(AsSequence), segment(AsSet)), { maxLength: 4 }),
        )
        .map(([confed, rest]) => asPathFromSegments([...confed, ...rest]));
      fc.assert(
        fc.property(pathArb, (path) => {
          const narrow = Uint32Array.from(path);
          // The two-octet AS_PATH: every wide AS number replaced by AS_TRANS.
          for (let i = 0; i < narrow.length; i += 2 + narrow[i + 1]!) {
            for (let j = i + 2; j < i + 2 + narrow[i + 1]!; j++)
              if (narrow[j]! > 0xffff) narrow[j] = AS_TRANS;
          }
          const as4Path = as4PathFor(path);
          const merged = as4Path ? mergeAs4Path(narrow, as4Path) : narrow;
          expect(asPathLength(merged)).toBe(asPathLength(path));
          expect(asPathSegments(merged).flatMap((s) => s.asns)).toEqual(
            asPathSegments(path).flatMap((s) => s.asns),
          );
        }),
      );
    });
  });
});
