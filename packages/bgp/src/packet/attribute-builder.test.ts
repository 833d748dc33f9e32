import { asPathFromSegments, asPathToString, asSequence } from './as-path';
import { buildAttributes } from './attribute-builder';
import { AsPathSegmentType } from './constants';
import type { SessionContext } from './session';
import { decodeUpdate } from './update-decode';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const EBGP: SessionContext = { fourOctetAs: true, extendedMessages: false, ibgp: false };
const IBGP: SessionContext = { ...EBGP, ibgp: true };
const EBGP_TWO_OCTET: SessionContext = { ...EBGP, fourOctetAs: false };

/** Decodes attribute bytes as a one-prefix UPDATE would carry them. */
function decodeAttributes(attributes: Buffer, ctx: SessionContext) {
  const body = Buffer.concat([
    hex('0000'),
    Buffer.of(attributes.length >> 8, attributes.length & 255),
    attributes,
    hex('18 0a0001'),
  ]);
  const d = decodeUpdate(body, ctx);
  if (d.action !== 'none') throw new Error(d.problems.map((p) => p.reason).join('; '));
  return d.attributes!;
}

describe('attribute builder', () => {
  test('writes attributes in ascending type order with their defined flags', () => {
    const bytes = buildAttributes(
      {
        origin: 2,
        asPath: asSequence([65001]),
        nextHop: 0x0a000001,
        med: 5,
        localPref: 200,
        atomicAggregate: true,
        aggregator: { asn: 65001, address: 0x0a000001 },
        communities: [0xfde90064],
        originatorId: 0x0a000002,
        clusterList: [0x0a000003],
      },
      IBGP,
    );
    expect(bytes).toEqual(
      hex(`
        40 01 01 02
        40 02 06 02 01 0000fde9
        40 03 04 0a000001
        80 04 04 00000005
        40 05 04 000000c8
        40 06 00
        c0 07 08 0000fde9 0a000001
        c0 08 04 fde90064
        80 09 04 0a000002
        80 0a 04 0a000003`),
    );
  });

  test('leaves LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST out for external peers', () => {
    const bytes = buildAttributes(
      { origin: 0, nextHop: 1, localPref: 100, originatorId: 2, clusterList: [3] },
      EBGP,
    );
    expect(bytes).toEqual(hex('40 01 01 00  40 02 00  40 03 04 00000001'));
  });

  test('what it builds decodes to the same values, and to itself as canonical form', () => {
    const spec = {
      origin: 0 as const,
      asPath: asSequence([65001, 65002]),
      nextHop: 0xc0000201,
      med: 10,
      localPref: 100,
      communities: [1, 2, 3],
      clusterList: [7, 8],
      originatorId: 9,
    };
    const bytes = buildAttributes(spec, IBGP);
    const decoded = decodeAttributes(bytes, IBGP);
    expect(decoded.canonical).toEqual(bytes);
    expect(decoded).toMatchObject({
      origin: 0,
      nextHop: 0xc0000201,
      med: 10,
      localPref: 100,
      originatorId: 9,
    });
    expect(Array.from(decoded.communities!)).toEqual([1, 2, 3]);
    expect(Array.from(decoded.clusterList!)).toEqual([7, 8]);
  });

  test('two-octet sessions get AS_TRANS plus AS4_PATH / AS4_AGGREGATOR (RFC 6793 §4.2.2)', () => {
    const asPath = asPathFromSegments([
      { type: AsPathSegmentType.AsConfedSequence, asns: [64512] },
      { type: AsPathSegmentType.AsSequence, asns: [65001, 4200000000] },
    ]);
    const aggregator = { asn: 4200000001, address: 0x0a000001 };
    const bytes = buildAttributes({ origin: 0, asPath, nextHop: 0x0a000001, aggregator }, EBGP_TWO_OCTET);
    expect(bytes).toEqual(
      hex(`
        40 01 01 00
        40 02 0a 03 01 fc00 02 02 fde9 5ba0
        40 03 04 0a000001
        c0 07 06 5ba0 0a000001
        c0 11 0a 02 02 0000fde9 fa56ea00
        c0 12 08 fa56ea01 0a000001`),
    );
    const decoded = decodeAttributes(bytes, EBGP_TWO_OCTET);
    expect(asPathToString(decoded.asPath)).toBe(asPathToString(asPath));
    expect(decoded.aggregator).toEqual(aggregator);
    expect(decoded.canonical).toEqual(
      buildAttributes({ origin: 0, asPath, nextHop: 0x0a000001, aggregator }, EBGP),
    );
  });

  test('passes other optional transitive attributes through, in type order', () => {
    const other = hex('c0 20 0c 0000fde9 00000001 00000002  e0 63 01 ff');
    const bytes = buildAttributes({ origin: 0, nextHop: 0x0a000001, otherTransitive: other }, EBGP);
    expect(bytes).toEqual(
      hex('40 01 01 00 40 02 00 40 03 04 0a000001 c0 20 0c 0000fde9 00000001 00000002 e0 63 01 ff'),
    );
    expect(decodeAttributes(bytes, EBGP).otherTransitive).toEqual(other);
  });

  test('rejects bad values with a message naming them', () => {
    expect(() => buildAttributes({ origin: 3 as 0 }, EBGP)).toThrow('origin 3 is not 0, 1 or 2');
    expect(() => buildAttributes({ origin: 0, med: -1 }, EBGP)).toThrow(
      'med must be an integer in 0..4294967295, got -1',
    );
    expect(() => buildAttributes({ origin: 0, communities: [1, 2 ** 32] }, EBGP)).toThrow(/communities\[1\]/);
    expect(() => buildAttributes({ origin: 0, otherTransitive: hex('c0 08 04 00000001') }, EBGP)).toThrow(
      /COMMUNITIES at octet 0 is not an attribute to pass through/,
    );
    expect(() => buildAttributes({ origin: 0, otherTransitive: hex('c0 63 05 00') }, EBGP)).toThrow(
      /runs past the end/,
    );
    expect(() => buildAttributes({ origin: 0, otherTransitive: hex('c0 63 00 c0 63 00') }, EBGP)).toThrow(
      /appears twice/,
    );
  });
});
