import fc from 'fast-check';
import { asSequence } from './as-path';
import { buildAttributes } from './attribute-builder';
import { Afi } from './constants';
import { MessageFramer } from './framer';
import { prefixList } from './prefixes';
import type { SessionContext } from './session';
import {
  encodeAnnouncements,
  encodeEndOfRib,
  encodeIpv4Announcements,
  encodeWithdrawals,
} from './update-encode';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const MARKER = 'ffffffffffffffffffffffffffffffff';

const EBGP: SessionContext = { fourOctetAs: true, extendedMessages: false, ibgp: false };
const IBGP: SessionContext = { ...EBGP, ibgp: true };
const V6_NEXT_HOP = hex('20010db8000000000000000000000001');

function split(stream: Buffer): Buffer[] {
  const framer = new MessageFramer();
  framer.setExtendedMessages(true);
  framer.push(stream);
  const out: Buffer[] = [];
  for (let f = framer.next(); f; f = framer.next()) {
    if (f.kind === 'error') throw new Error(f.reason);
    out.push(f.message);
  }
  return out;
}

function slash32s(count: number): ReturnType<typeof prefixList> {
  return prefixList(
    Afi.Ipv4,
    Array.from({ length: count }, (_, i) => `100.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`),
  );
}

describe('UPDATE encoding', () => {
  const ebgpAttributes = buildAttributes(
    { origin: 0, asPath: asSequence([65001]), nextHop: 0xc0000201 },
    EBGP,
  );

  test('golden: two /24s in one UPDATE', () => {
    const bytes = encodeAnnouncements(
      { attributes: ebgpAttributes, prefixes: prefixList(Afi.Ipv4, ['10.0.1.0/24', '10.0.2.0/24']) },
      EBGP,
    );
    expect(bytes).toEqual(
      hex(`${MARKER} 0033 02 0000 0014
        40 01 01 00  40 02 06 02 01 0000fde9  40 03 04 c0000201
        18 0a0001 18 0a0002`),
    );
  });

  test('golden: an IPv4 withdrawal', () => {
    expect(encodeWithdrawals(prefixList(Afi.Ipv4, ['10.0.1.0/24']), EBGP)).toEqual(
      hex(`${MARKER} 001b 02 0004 18 0a0001 0000`),
    );
  });

  test('golden: IPv6 in MP_REACH_NLRI, placed first (RFC 7606 §5.1)', () => {
    const attributes = buildAttributes({ origin: 0, localPref: 100 }, IBGP);
    const bytes = encodeAnnouncements(
      { attributes, prefixes: prefixList(Afi.Ipv6, ['2001:db8:1::/48']), mpNextHop: V6_NEXT_HOP },
      IBGP,
    );
    expect(bytes).toEqual(
      hex(`${MARKER} 0045 02 0000 002e
        90 0e 001c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001
        40 01 01 00  40 02 00  40 05 04 00000064`),
    );
  });

  test('golden: an IPv6 withdrawal in MP_UNREACH_NLRI', () => {
    expect(encodeWithdrawals(prefixList(Afi.Ipv6, ['2001:db8:2::/48']), EBGP)).toEqual(
      hex(`${MARKER} 0025 02 0000 000e 90 0f 000a 0002 01 30 20010db80002`),
    );
  });

  test('golden: End-of-RIB markers (RFC 4724 §2)', () => {
    expect(encodeEndOfRib({ afi: 1, safi: 1 })).toEqual(hex(`${MARKER} 0017 02 0000 0000`));
    expect(encodeEndOfRib({ afi: 2, safi: 1 })).toEqual(hex(`${MARKER} 001d 02 0000 0006 80 0f 03 0002 01`));
  });

  // The per-message counts match the capacities computed in the BGP reference notes.
  test.each([
    ['eBGP /32 announcements, 4096-octet messages', false, 'announce', 1000, [810, 190]],
    ['eBGP /32 announcements, extended messages', true, 'announce', 20000, [13098, 6902]],
    ['IPv4 /32 withdrawals', false, 'withdraw', 1000, [814, 186]],
  ] as const)('packs %s as full as they go', (_name, extendedMessages, kind, count, perMessage) => {
    const ctx = { ...EBGP, extendedMessages };
    const prefixes = slash32s(count);
    const bytes =
      kind === 'announce'
        ? encodeAnnouncements({ attributes: ebgpAttributes, prefixes }, ctx)
        : encodeWithdrawals(prefixes, ctx);
    const messages = split(bytes);
    const fieldsPerMessage = kind === 'announce' ? 23 + ebgpAttributes.length : 23;
    expect(messages.map((m) => (m.length - fieldsPerMessage) / 5)).toEqual(perMessage);
    expect(Math.max(...messages.map((m) => m.length))).toBeLessThanOrEqual(extendedMessages ? 65535 : 4096);
  });

  test('packs IPv6 /128s into MP_REACH_NLRI as full as they go', () => {
    const attributes = buildAttributes({ origin: 0, localPref: 100 }, IBGP);
    const prefixes = prefixList(
      Afi.Ipv6,
      Array.from({ length: 300 }, (_, i) => `2001:db8::${i.toString(16)}/128`),
    );
    const messages = split(encodeAnnouncements({ attributes, prefixes, mpNextHop: V6_NEXT_HOP }, IBGP));
    expect(messages.map((m) => (m.length - 23 - 25 - attributes.length) / 17)).toEqual([237, 63]);
  });

  test('nothing to encode gives no bytes', () => {
    expect(encodeWithdrawals(slash32s(0), EBGP).length).toBe(0);
  });

  test('refuses what cannot be encoded, saying why', () => {
    const huge = Buffer.alloc(4080);
    expect(() => encodeAnnouncements({ attributes: huge, prefixes: slash32s(1) }, EBGP)).toThrow(
      /leave no room for a prefix in a 4096-octet message/,
    );
    expect(() =>
      encodeAnnouncements(
        { attributes: ebgpAttributes, prefixes: prefixList(Afi.Ipv6, ['2001:db8::/32']) },
        EBGP,
      ),
    ).toThrow(/16- or 32-octet next hop, got none/);
  });
});

test('several IPv4 announcements in one buffer are the messages encodeAnnouncements makes for each', () => {
  // Attribute sets of different sizes, prefix runs of any length (some split over messages),
  // on standard and extended-message sessions.
  const run = fc.record({
    communities: fc.integer({ min: 0, max: 200 }),
    lengths: fc.array(fc.integer({ min: 0, max: 32 }), { maxLength: 1500 }),
  });
  fc.assert(
    fc.property(fc.array(run, { maxLength: 6 }), fc.boolean(), (runs, extended) => {
      const ctx: SessionContext = { ...EBGP, extendedMessages: extended };
      const attributes = runs.map((r, n) =>
        buildAttributes(
          {
            origin: 0,
            asPath: asSequence([65001 + n]),
            nextHop: 0xc0000201,
            communities: Array.from({ length: r.communities }, (_, c) => 0xfde80000 + c),
          },
          ctx,
        ),
      );
      const allLengths = runs.flatMap((r) => r.lengths);
      const lengths = Uint8Array.from(allLengths);
      const words = Uint32Array.from(allLengths, (bits, n) =>
        bits === 0 ? 0 : ((0x64000000 + n * 256) & (-1 << (32 - bits))) >>> 0,
      );
      const ends: number[] = [];
      for (const r of runs) ends.push((ends.at(-1) ?? 0) + r.lengths.length);
      const together = encodeIpv4Announcements(attributes, words, lengths, ends, ctx);
      const each = runs.map((_, n) => {
        const start = n === 0 ? 0 : ends[n - 1]!;
        const prefixes = {
          afi: Afi.Ipv4,
          words: words.subarray(start, ends[n]),
          lengths: lengths.subarray(start, ends[n]),
        };
        return encodeAnnouncements({ attributes: attributes[n]!, prefixes }, ctx);
      });
      expect(together).toEqual(Buffer.concat(each));
      expect(split(together).every((m) => m.length <= (extended ? 65535 : 4096))).toBe(true);
    }),
    { numRuns: 60 },
  );
});

test('announcements whose attributes leave no room for a prefix are refused, naming the sizes', () => {
  const attributes = Buffer.alloc(4096 - 23 - 2);
  const prefixes = slash32s(1);
  expect(() => encodeIpv4Announcements([attributes], prefixes.words, prefixes.lengths, [1], EBGP)).toThrow(
    '4094 octets of UPDATE fields leave no room for a prefix in a 4096-octet message',
  );
});
