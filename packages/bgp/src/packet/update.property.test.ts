// Properties of the UPDATE codec over generated messages: everything encodable round-trips,
// and no mutation of a real message makes the decoder throw or leak announcements.

import fc from 'fast-check';
import { type AsPath, asPathFromSegments } from './as-path';
import { type AttributeSetSpec, buildAttributes } from './attribute-builder';
import { Afi, AsPathSegmentType, type Origin } from './constants';
import { type Frame, MessageFramer } from './framer';
import { encodedPrefixSize, type PrefixList, prefixList, prefixStrings } from './prefixes';
import { maxUpdateLength, type SessionContext } from './session';
import { AttributeCache, type DecodedUpdate, decodeUpdate } from './update-decode';
import { encodeAnnouncements, encodeWithdrawals } from './update-encode';

const ctxArb: fc.Arbitrary<SessionContext> = fc.record({
  fourOctetAs: fc.boolean(),
  extendedMessages: fc.boolean(),
  ibgp: fc.boolean(),
});

const asnArb = fc.oneof(fc.integer({ min: 1, max: 0xffff }), fc.integer({ min: 1, max: 0xffffffff }));
const asPathArb: fc.Arbitrary<AsPath> = fc
  .tuple(
    // Confederation members reach two-octet speakers only as two-octet numbers (RFC 6793).
    fc.array(fc.array(fc.integer({ min: 1, max: 0xffff }), { minLength: 1, maxLength: 4 }), { maxLength: 1 }),
    fc.array(
      fc.record({
        type: fc.constantFrom(AsPathSegmentType.AsSequence, AsPathSegmentType.AsSet),
        asns: fc.array(asnArb, { minLength: 1, maxLength: 10 }),
      }),
      { maxLength: 4 },
    ),
  )
  .map(([confed, rest]) =>
    asPathFromSegments([
      ...confed.map((asns) => ({ type: AsPathSegmentType.AsConfedSequence, asns })),
      ...rest,
    ]),
  );
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
/** A next hop the decoder accepts: not 0/8, not multicast or reserved. */
const unicastV4 = fc.integer({ min: 0x01000000, max: 0xdfffffff });

/** Unrecognized optional transitive attributes and large communities, in canonical form. */
const otherTransitiveArb = fc
  .uniqueArray(
    fc.record({
      type: fc.constantFrom(32, 99, 128, 200, 240),
      length: fc.integer({ min: 1, max: 300 }),
      fill: fc.nat(255),
    }),
    { selector: (a) => a.type, maxLength: 3 },
  )
  .map((attrs) => {
    if (attrs.length === 0) return null;
    const sorted = [...attrs].sort((a, b) => a.type - b.type);
    return Buffer.concat(
      sorted.map(({ type, length, fill }) => {
        const valueLength = type === 32 ? 12 * Math.ceil(length / 12) : length;
        const flags = (type === 32 ? 0xc0 : 0xe0) | (valueLength > 255 ? 0x10 : 0);
        const header =
          valueLength > 255
            ? Buffer.of(flags, type, valueLength >> 8, valueLength & 255)
            : Buffer.of(flags, type, valueLength);
        return Buffer.concat([header, Buffer.alloc(valueLength, fill)]);
      }),
    );
  });

const specArb = (withNextHop: boolean): fc.Arbitrary<AttributeSetSpec> =>
  fc.record({
    origin: fc.constantFrom<Origin>(0, 1, 2),
    asPath: asPathArb,
    nextHop: withNextHop ? unicastV4 : fc.constant(null),
    med: fc.option(uint32, { nil: null }),
    localPref: fc.option(uint32, { nil: null }),
    atomicAggregate: fc.boolean(),
    aggregator: fc.option(fc.record({ asn: asnArb, address: uint32 }), { nil: null }),
    communities: fc.option(fc.array(uint32, { minLength: 1, maxLength: 20 }), { nil: null }),
    originatorId: fc.option(uint32, { nil: null }),
    clusterList: fc.option(fc.array(uint32, { minLength: 1, maxLength: 5 }), { nil: null }),
    otherTransitive: otherTransitiveArb,
  });

const v4PrefixesArb = fc
  .array(fc.tuple(uint32, fc.integer({ min: 0, max: 32 })), { minLength: 1, maxLength: 1500 })
  .map((ps) =>
    prefixList(
      Afi.Ipv4,
      ps.map(([a, l]) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}/${l}`),
    ),
  );
const v6PrefixesArb = fc
  .array(fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })), { minLength: 1, maxLength: 400 })
  .map((ps) =>
    prefixList(
      Afi.Ipv6,
      ps.map(([a, l]) => `${a}/${l}`),
    ),
  );
const v6NextHopArb = fc.boolean().map((withLinkLocal) => {
  const global = Buffer.from('20010db8000000000000000000000001', 'hex');
  return withLinkLocal
    ? Buffer.concat([global, Buffer.from('fe800000000000000000000000000001', 'hex')])
    : global;
});

function frames(stream: Buffer, ctx: SessionContext): Extract<Frame, { kind: 'message' }>[] {
  const framer = new MessageFramer();
  framer.setExtendedMessages(ctx.extendedMessages);
  framer.push(stream);
  const out: Extract<Frame, { kind: 'message' }>[] = [];
  for (let f = framer.next(); f; f = framer.next()) {
    if (f.kind === 'error') throw new Error(f.reason);
    out.push(f);
  }
  return out;
}

function concatPrefixes(lists: PrefixList[]): string[] {
  return lists.flatMap(prefixStrings);
}

/** Each message but the last could not take the next message's first prefix. */
function expectPackedFull(messages: Buffer[], firstPrefixSizes: number[], ctx: SessionContext): void {
  for (let i = 0; i + 1 < messages.length; i++) {
    expect(messages[i]!.length + firstPrefixSizes[i + 1]!).toBeGreaterThan(maxUpdateLength(ctx));
  }
}

/** What the decoder must report for `spec` on a session: iBGP-only attributes vanish on eBGP. */
function expectAttributes(d: DecodedUpdate, spec: AttributeSetSpec, ctx: SessionContext): void {
  const a = d.attributes!;
  expect(a.canonical).toEqual(buildAttributes(spec, { fourOctetAs: true, ibgp: ctx.ibgp }));
  expect(a.origin).toBe(spec.origin);
  expect(a.asPath).toEqual(spec.asPath);
  expect(a.med).toBe(spec.med);
  expect(a.localPref).toBe(ctx.ibgp ? spec.localPref : null);
  expect(a.originatorId).toBe(ctx.ibgp ? spec.originatorId : null);
  expect(a.clusterList && Array.from(a.clusterList)).toEqual(ctx.ibgp ? spec.clusterList : null);
  expect(a.communities && Array.from(a.communities)).toEqual(spec.communities);
  expect(a.aggregator).toEqual(spec.aggregator);
  expect(a.atomicAggregate).toBe(spec.atomicAggregate);
  expect(a.otherTransitive).toEqual(spec.otherTransitive);
}

describe('UPDATE properties', () => {
  test('IPv4 announcements round-trip through encode → frame → decode, packed full', () => {
    fc.assert(
      fc.property(ctxArb, specArb(true), v4PrefixesArb, (ctx, spec, prefixes) => {
        const attributes = buildAttributes(spec, ctx);
        const messages = frames(encodeAnnouncements({ attributes, prefixes }, ctx), ctx);
        const decoded = messages.map((m) => decodeUpdate(m.body, ctx));
        for (const d of decoded) {
          expect(d.problems).toEqual([]);
          expect(d.attributes!.nextHop).toBe(spec.nextHop);
          expectAttributes(d, spec, ctx);
        }
        expect(concatPrefixes(decoded.map((d) => d.announced!))).toEqual(prefixStrings(prefixes));
        const firstSizes = decoded.map((d) => encodedPrefixSize(d.announced!.lengths[0]!));
        expectPackedFull(
          messages.map((m) => m.message),
          firstSizes,
          ctx,
        );
      }),
      { numRuns: 60 },
    );
  });

  test('IPv6 announcements round-trip through MP_REACH_NLRI', () => {
    fc.assert(
      fc.property(ctxArb, specArb(false), v6PrefixesArb, v6NextHopArb, (ctx, spec, prefixes, mpNextHop) => {
        const attributes = buildAttributes(spec, ctx);
        const messages = frames(encodeAnnouncements({ attributes, prefixes, mpNextHop }, ctx), ctx);
        const decoded = messages.map((m) => decodeUpdate(m.body, ctx));
        for (const d of decoded) {
          expect(d.problems).toEqual([]);
          expect(d.attributes!.mpNextHop).toEqual(mpNextHop);
          expect(d.attributes!.nextHop).toBeNull();
          expectAttributes(d, spec, ctx);
        }
        expect(concatPrefixes(decoded.map((d) => d.mpAnnounced!))).toEqual(prefixStrings(prefixes));
        const firstSizes = decoded.map((d) => encodedPrefixSize(d.mpAnnounced!.lengths[0]!));
        expectPackedFull(
          messages.map((m) => m.message),
          firstSizes,
          ctx,
        );
      }),
      { numRuns: 60 },
    );
  });

  test('withdrawals round-trip in both families', () => {
    fc.assert(
      fc.property(ctxArb, fc.oneof(v4PrefixesArb, v6PrefixesArb), (ctx, prefixes) => {
        const decoded = frames(encodeWithdrawals(prefixes, ctx), ctx).map((m) => decodeUpdate(m.body, ctx));
        for (const d of decoded) {
          expect(d.action).toBe('none');
          expect(d.attributes).toBeNull();
        }
        expect(concatPrefixes(decoded.flatMap((d) => [...d.withdrawn]))).toEqual(prefixStrings(prefixes));
      }),
      { numRuns: 60 },
    );
  });

  // A valid UPDATE (first message of an encoding) to mutate.
  const validUpdateArb = fc
    .tuple(ctxArb, specArb(true), specArb(false), v4PrefixesArb, v6PrefixesArb, v6NextHopArb, fc.nat(2))
    .map(([ctx, v4Spec, v6Spec, v4, v6, mpNextHop, kind]) => {
      const small = { ...ctx, extendedMessages: false };
      const stream =
        kind === 0
          ? encodeAnnouncements({ attributes: buildAttributes(v4Spec, small), prefixes: v4 }, small)
          : kind === 1
            ? encodeAnnouncements(
                { attributes: buildAttributes(v6Spec, small), prefixes: v6, mpNextHop },
                small,
              )
            : encodeWithdrawals(v4, small);
      return { ctx, message: frames(stream, small)[0]!.message };
    });

  const mutationArb = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('uint16' as const), at: fc.nat(), value: fc.nat(0xffff) }),
    fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.nat(255) }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
  );
  type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

  /** Mutates the body (after the header), keeping the header's length field in step. */
  function mutate(message: Buffer, mutations: Mutation[]): Buffer {
    let body = Buffer.from(message.subarray(19));
    for (const m of mutations) {
      if (body.length === 0) break;
      const at = m.at % body.length;
      if (m.kind === 'flip') body[at]! ^= 1 << m.bit;
      else if (m.kind === 'truncate') body = body.subarray(0, at);
      else if (m.kind === 'byte') body[at] = m.value;
      else if (m.kind === 'uint16' && at + 1 < body.length) body.writeUInt16BE(m.value, at);
      else if (m.kind === 'insert') body = Buffer.concat([body.subarray(0, at), m.bytes, body.subarray(at)]);
    }
    const out = Buffer.concat([message.subarray(0, 19), body]);
    out.writeUInt16BE(Math.min(out.length, 0xffff), 16);
    return out;
  }

  test('mutated messages never throw, never yield more prefixes than octets, and leak no announcements', () => {
    fc.assert(
      fc.property(
        validUpdateArb,
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        ({ ctx, message }, mutations) => {
          const mutated = mutate(message, mutations);
          const body = mutated.subarray(19);
          const d = decodeUpdate(body, ctx);

          const lists = [...d.withdrawn, d.announced, d.mpAnnounced].filter(
            (l): l is PrefixList => l !== null,
          );
          const total = lists.reduce((n, l) => n + l.lengths.length, 0);
          expect(total).toBeLessThanOrEqual(Math.max(0, body.length - 4));

          const accepted = d.action === 'none' || d.action === 'attribute-discard';
          if (!accepted) {
            expect(d.announced).toBeNull();
            expect(d.mpAnnounced).toBeNull();
            expect(d.attributes).toBeNull();
          }
          if (d.action === 'none') expect(d.problems).toEqual([]);
          else expect(d.problems.length).toBeGreaterThan(0);

          // Whatever is announced re-encodes into a clean UPDATE: nothing invalid slipped through.
          const clean = { fourOctetAs: true, extendedMessages: true, ibgp: ctx.ibgp };
          if (d.announced) {
            const again = encodeAnnouncements(
              { attributes: d.attributes!.canonical, prefixes: d.announced },
              clean,
            );
            for (const m of frames(again, clean)) expect(decodeUpdate(m.body, clean).problems).toEqual([]);
          }
          if (d.mpAnnounced && d.mpAnnounced.afi === Afi.Ipv6) {
            const again = encodeAnnouncements(
              {
                attributes: d.attributes!.canonical,
                prefixes: d.mpAnnounced,
                mpNextHop: d.attributes!.mpNextHop!,
              },
              clean,
            );
            for (const m of frames(again, clean)) expect(decodeUpdate(m.body, clean).problems).toEqual([]);
          }

          // The framer, fed the raw mutated bytes, reports rather than throws as well.
          const framer = new MessageFramer();
          framer.push(mutated);
          const frame = framer.next();
          if (frame?.kind === 'message') expect(frame.message.length).toBeLessThanOrEqual(mutated.length);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("a session's attribute cache never changes what an UPDATE decodes to", () => {
    // The same attribute sections come back with other NLRI and withdrawn fields, intact or
    // mutated, so the cache is both hit and offered sections it must refuse.
    let hits = 0;
    fc.assert(
      fc.property(
        validUpdateArb,
        fc.array(fc.array(mutationArb, { maxLength: 2 }), { minLength: 1, maxLength: 6 }),
        ({ ctx, message }, variants) => {
          const cache = new AttributeCache();
          const decoded = [[], ...variants, []].map((mutations) => {
            const body =
              mutations.length === 0 ? message.subarray(19) : mutate(message, mutations).subarray(19);
            const cached = decodeUpdate(body, ctx, cache);
            const uncached = decodeUpdate(body, ctx);
            expect(cached).toEqual(uncached);
            expect(decodeUpdate(body, ctx, cache)).toEqual(uncached); // from the cache, if it took it
            return cached;
          });
          // The intact message, decoded again last, shares the first decoding's attributes.
          const [first, last] = [decoded[0]!, decoded[decoded.length - 1]!];
          if (first.attributes && last.attributes === first.attributes) hits++;
        },
      ),
      { numRuns: 500 },
    );
    expect(hits).toBeGreaterThan(100);
  });
});
