import { asPathToString } from './as-path';
import { Afi, AS_TRANS, ErrorCode, UpdateSubcode } from './constants';
import { prefixStrings } from './prefixes';
import type { SessionContext } from './session';
import {
  AttributeCache,
  type DecodedUpdate,
  decodeUpdate,
  sectionHash,
  type UpdateAction,
} from './update-decode';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const MARKER = 'ffffffffffffffffffffffffffffffff';

const EBGP: SessionContext = { fourOctetAs: true, extendedMessages: false, ibgp: false };
const IBGP: SessionContext = { ...EBGP, ibgp: true };
const EBGP_TWO_OCTET: SessionContext = { ...EBGP, fourOctetAs: false };

/** An UPDATE body from hex fields; the length fields are computed. */
function update(fields: { withdrawn?: string; attrs?: string[]; nlri?: string }): Buffer {
  const withdrawn = hex(fields.withdrawn ?? '');
  const attrs = hex((fields.attrs ?? []).join(''));
  const nlri = hex(fields.nlri ?? '');
  const body = Buffer.alloc(4 + withdrawn.length + attrs.length + nlri.length);
  body.writeUInt16BE(withdrawn.length, 0);
  withdrawn.copy(body, 2);
  body.writeUInt16BE(attrs.length, 2 + withdrawn.length);
  attrs.copy(body, 4 + withdrawn.length);
  nlri.copy(body, 4 + withdrawn.length + attrs.length);
  return body;
}

const ORIGIN = '40 01 01 00';
const AS_PATH = '40 02 06 02 01 0000fde9'; // AS_SEQUENCE [65001], four-octet
const AS_PATH_TWO_OCTET = '40 02 04 02 01 fde9';
const NEXT_HOP = '40 03 04 c0000201'; // 192.0.2.1
const NLRI = '18 0a0001 18 0a0002'; // 10.0.1.0/24, 10.0.2.0/24
const BASE = [ORIGIN, AS_PATH, NEXT_HOP];
const MP_REACH_V6 = '90 0e 001c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001'; // 2001:db8:1::/48
const MP_UNREACH_V6 = '80 0f 0a 0002 01 30 20010db80002'; // 2001:db8:2::/48

const withdrawals = (d: DecodedUpdate): string[] => d.withdrawn.flatMap(prefixStrings);

describe('UPDATE decoding', () => {
  test('golden: an UPDATE announcing two /24s (RFC 4271 §4.3)', () => {
    const message = hex(`
      ${MARKER} 0033 02
      0000 0014
      40 01 01 00
      40 02 06 02 01 0000fde9
      40 03 04 c0000201
      18 0a0001 18 0a0002`);
    const d = decodeUpdate(message.subarray(19), EBGP);
    expect(d.action).toBe('none');
    expect(d.problems).toEqual([]);
    expect(prefixStrings(d.announced!)).toEqual(['10.0.1.0/24', '10.0.2.0/24']);
    expect(d.withdrawn).toEqual([]);
    expect(d.attributes).toMatchObject({
      origin: 0,
      nextHop: 0xc0000201,
      med: null,
      localPref: null,
      mpNextHop: null,
      otherTransitive: null,
    });
    expect(asPathToString(d.attributes!.asPath)).toBe('65001');
    // Already canonical, so the intern key is exactly the attribute block.
    expect(d.attributes!.canonical).toEqual(message.subarray(23, 43));
  });

  test('golden: IPv6 in MP_REACH_NLRI, no NEXT_HOP needed (RFC 4760 §3)', () => {
    const message = hex(`
      ${MARKER} 0045 02
      0000 002e
      ${MP_REACH_V6}
      40 01 01 00  40 02 00  40 05 04 00000064`);
    const d = decodeUpdate(message.subarray(19), IBGP);
    expect(d.action).toBe('none');
    expect(d.announced).toBeNull();
    expect(prefixStrings(d.mpAnnounced!)).toEqual(['2001:db8:1::/48']);
    expect(d.attributes!.mpNextHop).toEqual(hex('20010db8000000000000000000000001'));
    expect(d.attributes!.localPref).toBe(100);
    expect(d.attributes!.canonical).toEqual(hex('40010100 400200 400504 00000064'));
  });

  test('golden: withdrawals in both fields', () => {
    const d = decodeUpdate(update({ withdrawn: '18 0a0001', attrs: [MP_UNREACH_V6] }), EBGP);
    expect(d.action).toBe('none');
    expect(withdrawals(d)).toEqual(['10.0.1.0/24', '2001:db8:2::/48']);
    expect(d.attributes).toBeNull();
  });

  test('End-of-RIB markers (RFC 4724 §2)', () => {
    expect(decodeUpdate(update({}), EBGP).endOfRib).toEqual({ afi: 1, safi: 1 });
    expect(decodeUpdate(update({ attrs: ['80 0f 03 0002 01'] }), EBGP).endOfRib).toEqual({ afi: 2, safi: 1 });
    expect(decodeUpdate(update({ attrs: [MP_UNREACH_V6] }), EBGP).endOfRib).toBeNull();
    expect(decodeUpdate(update({ withdrawn: '18 0a0001' }), EBGP).endOfRib).toBeNull();
  });

  test('canonical bytes ignore attribute order and length encoding', () => {
    const tidy = decodeUpdate(
      update({ attrs: [ORIGIN, AS_PATH, NEXT_HOP, '80 04 04 00000005'], nlri: NLRI }),
      EBGP,
    );
    const messy = decodeUpdate(
      update({ attrs: ['90 04 0004 00000005', NEXT_HOP, '50 02 0006 02 01 0000fde9', ORIGIN], nlri: NLRI }),
      EBGP,
    );
    expect(messy.action).toBe('none');
    expect(messy.attributes!.canonical).toEqual(tidy.attributes!.canonical);
  });

  test('unrecognized optional transitive attributes are kept with Partial set; non-transitive ones dropped', () => {
    const d = decodeUpdate(update({ attrs: [...BASE, 'c0 63 02 abcd', '80 64 01 ff'], nlri: NLRI }), EBGP);
    expect(d.action).toBe('none');
    expect(d.attributes!.otherTransitive).toEqual(hex('e0 63 02 abcd'));
    expect(d.attributes!.canonical.subarray(-5)).toEqual(hex('e0 63 02 abcd'));
  });

  test('extended and large communities are validated and carried for re-advertisement', () => {
    const ext = 'c0 10 08 0002fde900000064';
    const large = 'c0 20 0c 0000fde9 00000001 00000002';
    const d = decodeUpdate(update({ attrs: [...BASE, large, ext, 'c0 08 04 fde90064'], nlri: NLRI }), EBGP);
    expect(d.action).toBe('none');
    expect(Array.from(d.attributes!.communities!)).toEqual([0xfde90064]);
    expect(d.attributes!.otherTransitive).toEqual(hex(ext + large));
  });

  test('two-octet sessions: AS4_PATH and AS4_AGGREGATOR are merged back (RFC 6793 §4.2.3)', () => {
    const d = decodeUpdate(
      update({
        attrs: [
          ORIGIN,
          '40 02 06 02 02 fde9 5ba0', // AS_SEQUENCE [65001, AS_TRANS]
          NEXT_HOP,
          'c0 07 06 5ba0 c0000201', // AGGREGATOR AS_TRANS 192.0.2.1
          'c0 11 06 02 01 fa56ea00', // AS4_PATH [4200000000]
          'c0 12 08 fa56ea00 c0000201', // AS4_AGGREGATOR 4200000000
        ],
        nlri: NLRI,
      }),
      EBGP_TWO_OCTET,
    );
    expect(d.action).toBe('none');
    expect(asPathToString(d.attributes!.asPath)).toBe('65001 4200000000');
    expect(d.attributes!.aggregator).toEqual({ asn: 4200000000, address: 0xc0000201 });
    // The canonical form is the four-octet one, without AS4_* attributes.
    expect(d.attributes!.canonical).toEqual(
      hex(`${ORIGIN} 40 02 0a 02 02 0000fde9 fa56ea00 ${NEXT_HOP} c0 07 08 fa56ea00 c0000201`),
    );
  });

  test('two-octet sessions: beside AS4_AGGREGATOR, an AGGREGATOR other than AS_TRANS makes the AS4 attributes stale', () => {
    const attrs = [ORIGIN, AS_PATH_TWO_OCTET, NEXT_HOP, 'c0 07 06 fde9 c0000201', 'c0 11 06 02 01 fa56ea00'];
    const stale = decodeUpdate(
      update({ attrs: [...attrs, 'c0 12 08 fa56ea00 c0000201'], nlri: NLRI }),
      EBGP_TWO_OCTET,
    );
    expect(asPathToString(stale.attributes!.asPath)).toBe('65001');
    expect(stale.attributes!.aggregator).toEqual({ asn: 65001, address: 0xc0000201 });
    // Without AS4_AGGREGATOR the rule does not apply and AS4_PATH is merged.
    const merged = decodeUpdate(update({ attrs, nlri: NLRI }), EBGP_TWO_OCTET);
    expect(asPathToString(merged.attributes!.asPath)).toBe('4200000000');
  });

  // RFC 4271 §6.3 and RFC 7606 §3–§7, one row per case.
  type Expected = { code: number; subcode: number; data: string } | null;
  interface Case {
    name: string;
    ctx?: SessionContext;
    body: Buffer;
    action: UpdateAction;
    /** Notification of the deciding problem (RFC 4271's choice, also for the softer actions). */
    notification: Expected;
  }
  const U = ErrorCode.UpdateMessage;
  const S = UpdateSubcode;
  const cases: Case[] = [
    {
      name: 'Withdrawn Routes Length past the message → session reset, Malformed Attribute List',
      body: hex('00ff 0000'),
      action: 'session-reset',
      notification: { code: U, subcode: S.MalformedAttributeList, data: '' },
    },
    {
      name: 'Total Path Attribute Length past the message → session reset, Malformed Attribute List',
      body: hex(`0000 00ff ${ORIGIN}`),
      action: 'session-reset',
      notification: { code: U, subcode: S.MalformedAttributeList, data: '' },
    },
    {
      name: 'withdrawn prefix of length 33 → session reset, Invalid Network Field (§5.3)',
      body: update({ withdrawn: '21 0a00000100' }),
      action: 'session-reset',
      notification: { code: U, subcode: S.InvalidNetworkField, data: '' },
    },
    {
      name: 'NLRI prefix of length 33 → session reset, Invalid Network Field',
      body: update({ attrs: BASE, nlri: '21 0a00000100' }),
      action: 'session-reset',
      notification: { code: U, subcode: S.InvalidNetworkField, data: '' },
    },
    {
      name: 'NLRI prefix running past the message → session reset, Invalid Network Field',
      body: update({ attrs: BASE, nlri: '18 0a00' }),
      action: 'session-reset',
      notification: { code: U, subcode: S.InvalidNetworkField, data: '' },
    },
    {
      name: 'too few octets left for an attribute header → treat-as-withdraw (§4)',
      body: update({ attrs: [ORIGIN, NEXT_HOP, '40 02'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MalformedAttributeList, data: '' },
    },
    {
      name: 'attribute length past the attribute list → treat-as-withdraw (§4)',
      body: update({ attrs: [ORIGIN, NEXT_HOP, '40 02 09 02 01 0000fde9'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: '4002090201 0000fde9' },
    },
    {
      name: 'ORIGIN of length 2 → treat-as-withdraw, Attribute Length Error quoting it (§7.1)',
      body: update({ attrs: ['40 01 02 0000', AS_PATH, NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: '4001020000' },
    },
    {
      name: 'ORIGIN value 3 → treat-as-withdraw, Invalid ORIGIN (§7.1)',
      body: update({ attrs: ['40 01 01 03', AS_PATH, NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.InvalidOrigin, data: '40010103' },
    },
    {
      name: 'ORIGIN flagged optional → treat-as-withdraw, Attribute Flags Error (§3 c)',
      body: update({ attrs: ['80 01 01 00', AS_PATH, NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeFlagsError, data: '80010100' },
    },
    {
      name: 'AS_PATH segment overrunning the attribute → treat-as-withdraw, Malformed AS_PATH (§7.2)',
      body: update({ attrs: [ORIGIN, '40 02 06 02 02 0000fde9', NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MalformedAsPath, data: '' },
    },
    {
      name: 'AS_PATH with a zero-length segment → treat-as-withdraw (§7.2)',
      body: update({ attrs: [ORIGIN, '40 02 08 02 01 0000fde9 02 00', NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MalformedAsPath, data: '' },
    },
    {
      name: 'AS_PATH with an unknown segment type → treat-as-withdraw (§7.2)',
      body: update({ attrs: [ORIGIN, '40 02 06 05 01 0000fde9', NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MalformedAsPath, data: '' },
    },
    {
      name: 'AS_PATH with a lone trailing octet → treat-as-withdraw (§7.2)',
      body: update({ attrs: [ORIGIN, '40 02 07 02 01 0000fde9 02', NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MalformedAsPath, data: '' },
    },
    {
      name: 'AS_PATH holding AS 0 → treat-as-withdraw (RFC 7607)',
      body: update({ attrs: [ORIGIN, '40 02 06 02 01 00000000', NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MalformedAsPath, data: '' },
    },
    {
      name: 'AS_PATH in two-octet form on a four-octet session → treat-as-withdraw',
      body: update({ attrs: [ORIGIN, '40 02 08 02 03 fde9 fdea fdeb', NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MalformedAsPath, data: '' },
    },
    {
      name: 'NEXT_HOP of length 5 → treat-as-withdraw, Attribute Length Error (§7.3)',
      body: update({ attrs: [ORIGIN, AS_PATH, '40 03 05 c000020100'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: '400305c000020100' },
    },
    {
      name: 'NEXT_HOP 0.0.0.0 → treat-as-withdraw, Invalid NEXT_HOP',
      body: update({ attrs: [ORIGIN, AS_PATH, '40 03 04 00000000'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.InvalidNextHop, data: '40030400000000' },
    },
    {
      name: 'NEXT_HOP 224.0.0.1 (multicast) → treat-as-withdraw, Invalid NEXT_HOP',
      body: update({ attrs: [ORIGIN, AS_PATH, '40 03 04 e0000001'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.InvalidNextHop, data: '400304e0000001' },
    },
    {
      name: 'malformed NEXT_HOP with an empty NLRI field is ignored (RFC 4760 §3)',
      body: update({ attrs: [MP_REACH_V6, ORIGIN, AS_PATH, '40 03 02 0000'] }),
      action: 'none',
      notification: null,
    },
    {
      name: 'MULTI_EXIT_DISC of length 5 → treat-as-withdraw (§7.4)',
      body: update({ attrs: [...BASE, '80 04 05 0000000064'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: '8004050000000064' },
    },
    {
      name: 'LOCAL_PREF from an external peer → attribute discard (§7.5)',
      body: update({ attrs: [...BASE, '40 05 04 00000064'], nlri: NLRI }),
      action: 'attribute-discard',
      notification: null,
    },
    {
      name: 'LOCAL_PREF of length 3 from an internal peer → treat-as-withdraw (§7.5)',
      ctx: IBGP,
      body: update({ attrs: [...BASE, '40 05 03 000064'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: '400503000064' },
    },
    {
      name: 'ATOMIC_AGGREGATE of length 1 → attribute discard (§7.6)',
      body: update({ attrs: [...BASE, '40 06 01 00'], nlri: NLRI }),
      action: 'attribute-discard',
      notification: { code: U, subcode: S.AttributeLengthError, data: '40060100' },
    },
    {
      name: 'ATOMIC_AGGREGATE flagged optional → treat-as-withdraw (§3 c)',
      body: update({ attrs: [...BASE, 'c0 06 00'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeFlagsError, data: 'c00600' },
    },
    {
      name: 'AGGREGATOR of length 5 on a four-octet session → attribute discard (§7.7)',
      body: update({ attrs: [...BASE, 'c0 07 05 0000006400'], nlri: NLRI }),
      action: 'attribute-discard',
      notification: { code: U, subcode: S.AttributeLengthError, data: 'c007050000006400' },
    },
    {
      name: 'AGGREGATOR of length 8 on a two-octet session → attribute discard (§7.7)',
      ctx: EBGP_TWO_OCTET,
      body: update({
        attrs: [ORIGIN, AS_PATH_TWO_OCTET, NEXT_HOP, 'c0 07 08 0000fde9 c0000201'],
        nlri: NLRI,
      }),
      action: 'attribute-discard',
      notification: { code: U, subcode: S.AttributeLengthError, data: 'c007080000fde9c0000201' },
    },
    {
      name: 'AGGREGATOR flagged well-known → treat-as-withdraw (§3 c)',
      body: update({ attrs: [...BASE, '40 07 08 0000fde9 c0000201'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeFlagsError, data: '4007080000fde9c0000201' },
    },
    {
      name: 'COMMUNITIES of length 6 → treat-as-withdraw (§7.8)',
      body: update({ attrs: [...BASE, 'c0 08 06 fde90064 0000'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: 'c00806fde900640000' },
    },
    {
      name: 'COMMUNITIES of length 0 → treat-as-withdraw (§7.8)',
      body: update({ attrs: [...BASE, 'c0 08 00'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: 'c00800' },
    },
    {
      name: 'ORIGINATOR_ID from an external peer → attribute discard (§7.9)',
      body: update({ attrs: [...BASE, '80 09 04 0a000001'], nlri: NLRI }),
      action: 'attribute-discard',
      notification: null,
    },
    {
      name: 'ORIGINATOR_ID of length 5 from an internal peer → treat-as-withdraw (§7.9)',
      ctx: IBGP,
      body: update({ attrs: [...BASE, '80 09 05 0a00000100'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: '8009050a00000100' },
    },
    {
      name: 'CLUSTER_LIST from an external peer → attribute discard (§7.10)',
      body: update({ attrs: [...BASE, '80 0a 04 0a000001'], nlri: NLRI }),
      action: 'attribute-discard',
      notification: null,
    },
    {
      name: 'CLUSTER_LIST of length 6 from an internal peer → treat-as-withdraw (§7.10)',
      ctx: IBGP,
      body: update({ attrs: [...BASE, '80 0a 06 0a0000010000'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: '800a060a0000010000' },
    },
    {
      name: 'MP_REACH_NLRI twice → session reset, Malformed Attribute List (§3 g)',
      body: update({ attrs: [MP_REACH_V6, MP_REACH_V6, ORIGIN, AS_PATH] }),
      action: 'session-reset',
      notification: { code: U, subcode: S.MalformedAttributeList, data: '' },
    },
    {
      name: 'MP_UNREACH_NLRI twice → session reset, Malformed Attribute List (§3 g)',
      body: update({ attrs: [MP_UNREACH_V6, MP_UNREACH_V6] }),
      action: 'session-reset',
      notification: { code: U, subcode: S.MalformedAttributeList, data: '' },
    },
    {
      name: 'ORIGIN twice → the repeat is discarded (§3 g)',
      body: update({ attrs: [...BASE, '40 01 01 02'], nlri: NLRI }),
      action: 'attribute-discard',
      notification: null,
    },
    {
      name: 'a malformed repeat of an attribute is discarded unexamined (§3 g)',
      body: update({ attrs: [...BASE, '40 01 02 0000'], nlri: NLRI }),
      action: 'attribute-discard',
      notification: null,
    },
    {
      name: 'ORIGIN missing while announcing → treat-as-withdraw, Missing Well-known Attribute (§3 d)',
      body: update({ attrs: [AS_PATH, NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MissingWellKnownAttribute, data: '01' },
    },
    {
      name: 'AS_PATH missing while announcing → treat-as-withdraw (§3 d)',
      body: update({ attrs: [ORIGIN, NEXT_HOP], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MissingWellKnownAttribute, data: '02' },
    },
    {
      name: 'NEXT_HOP missing with IPv4 NLRI → treat-as-withdraw (§3 d)',
      body: update({ attrs: [ORIGIN, AS_PATH], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MissingWellKnownAttribute, data: '03' },
    },
    {
      name: 'ORIGIN missing with MP_REACH_NLRI announcements → treat-as-withdraw (§3 d)',
      body: update({ attrs: [MP_REACH_V6, AS_PATH] }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.MissingWellKnownAttribute, data: '01' },
    },
    {
      name: 'no mandatory attributes are needed without NLRI',
      body: update({ withdrawn: '18 0a0001', attrs: ['80 04 04 00000005'] }),
      action: 'none',
      notification: null,
    },
    {
      name: 'MP_REACH_NLRI with a 12-octet IPv6 next hop → AFI/SAFI disable, Optional Attribute Error (§7.11)',
      body: update({
        attrs: ['90 0e 0018 0002 01 0c 20010db80000000000000001 00 30 20010db80001', ORIGIN, AS_PATH],
      }),
      action: 'afi-safi-disable',
      notification: {
        code: U,
        subcode: S.OptionalAttributeError,
        data: '900e0018000201 0c 20010db80000000000000001 00 30 20010db80001',
      },
    },
    {
      name: 'MP_REACH_NLRI with an IPv6 prefix of length 129 → AFI/SAFI disable (§5.3)',
      body: update({
        attrs: [
          `90 0e 0027 0002 01 10 20010db8000000000000000000000001 00 81 ${'ab'.repeat(17)}`,
          ORIGIN,
          AS_PATH,
        ],
      }),
      action: 'afi-safi-disable',
      notification: {
        code: U,
        subcode: S.OptionalAttributeError,
        data: `900e0027000201 10 20010db8000000000000000000000001 00 81 ${'ab'.repeat(17)}`,
      },
    },
    {
      name: 'MP_UNREACH_NLRI with a truncated prefix → AFI/SAFI disable (§5.3)',
      body: update({ attrs: ['80 0f 06 0002 01 30 2001'] }),
      action: 'afi-safi-disable',
      notification: { code: U, subcode: S.OptionalAttributeError, data: '800f06000201302001' },
    },
    {
      name: 'MP_REACH_NLRI too short to name its family → session reset (§7.11)',
      body: update({ attrs: ['80 0e 02 0002'] }),
      action: 'session-reset',
      notification: { code: U, subcode: S.OptionalAttributeError, data: '800e020002' },
    },
    {
      name: 'MP_REACH_NLRI of an unsupported family (L2VPN EVPN) → ignored',
      body: update({ attrs: ['80 0e 09 0019 46 04 c0000201 00', ...BASE], nlri: NLRI }),
      action: 'attribute-discard',
      notification: null,
    },
    {
      name: 'MP_REACH_NLRI flagged transitive → treat-as-withdraw, its NLRI withdrawn (§3 c)',
      body: update({ attrs: [`d0${MP_REACH_V6.slice(2)}`, ORIGIN, AS_PATH] }),
      action: 'treat-as-withdraw',
      notification: {
        code: U,
        subcode: S.AttributeFlagsError,
        data: 'd00e001c000201 10 20010db8000000000000000000000001 00 30 20010db80001',
      },
    },
    {
      name: 'MP_REACH_NLRI (IPv4) with next hop 0.0.0.0 → treat-as-withdraw',
      body: update({ attrs: ['80 0e 0d 0001 01 04 00000000 00 18 0a0003', ORIGIN, AS_PATH] }),
      action: 'treat-as-withdraw',
      notification: {
        code: U,
        subcode: S.OptionalAttributeError,
        data: '800e0d0001010400000000 00 180a0003',
      },
    },
    {
      name: 'unrecognized well-known attribute → session reset, Unrecognized Well-known Attribute',
      body: update({ attrs: [...BASE, '40 63 01 00'], nlri: NLRI }),
      action: 'session-reset',
      notification: { code: U, subcode: S.UnrecognizedWellKnownAttribute, data: '40630100' },
    },
    {
      name: 'EXTENDED COMMUNITIES of length 7 → treat-as-withdraw (§7.14)',
      body: update({ attrs: [...BASE, 'c0 10 07 00000000000000'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: 'c0100700000000000000' },
    },
    {
      name: 'LARGE_COMMUNITY of length 10 → treat-as-withdraw (RFC 8092 §6)',
      body: update({ attrs: [...BASE, 'c0 20 0a 00000000000000000000'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: 'c0200a00000000000000000000' },
    },
    {
      name: 'AS4_PATH on a four-octet session → attribute discard (RFC 6793 §4.1)',
      body: update({ attrs: [...BASE, 'c0 11 06 02 01 fa56ea00'], nlri: NLRI }),
      action: 'attribute-discard',
      notification: { code: U, subcode: S.OptionalAttributeError, data: 'c0110602 01fa56ea00' },
    },
    {
      name: 'malformed AS4_PATH on a two-octet session → attribute discard (RFC 6793 §6)',
      ctx: EBGP_TWO_OCTET,
      body: update({ attrs: [ORIGIN, AS_PATH_TWO_OCTET, NEXT_HOP, 'c0 11 06 02 02 fa56ea00'], nlri: NLRI }),
      action: 'attribute-discard',
      notification: { code: U, subcode: S.OptionalAttributeError, data: 'c011060202fa56ea00' },
    },
    {
      name: 'a discard and a treat-as-withdraw → treat-as-withdraw, the stronger (§3 h)',
      body: update({ attrs: [...BASE, '40 06 01 00', '80 04 05 0000000064'], nlri: NLRI }),
      action: 'treat-as-withdraw',
      notification: { code: U, subcode: S.AttributeLengthError, data: '8004050000000064' },
    },
    {
      name: 'a treat-as-withdraw and a session reset → session reset (§3 h)',
      body: update({ attrs: [...BASE, '80 04 05 0000000064', '40 63 00'], nlri: NLRI }),
      action: 'session-reset',
      notification: { code: U, subcode: S.UnrecognizedWellKnownAttribute, data: '406300' },
    },
  ];

  test.each(cases)('$name', ({ ctx, body, action, notification }) => {
    const d = decodeUpdate(body, ctx ?? EBGP);
    expect(d.action).toBe(action);
    const deciding = d.problems.find((p) => p.action === action) ?? null;
    const actual = deciding?.notification ?? null;
    expect(
      actual && { code: actual.code, subcode: actual.subcode, data: actual.data.toString('hex') },
    ).toEqual(notification && { ...notification, data: notification.data.replace(/\s+/g, '') });
    // The NOTIFICATION to send is offered only when the session (or family) goes down.
    expect(d.notification).toBe(action === 'session-reset' || action === 'afi-safi-disable' ? actual : null);
    for (const problem of d.problems) expect(problem.reason).toMatch(/\S/);
    if (action === 'treat-as-withdraw' || action === 'afi-safi-disable' || action === 'session-reset') {
      expect(d.announced).toBeNull();
      expect(d.mpAnnounced).toBeNull();
      expect(d.attributes).toBeNull();
    }
  });

  test('treat-as-withdraw turns every announcement into a withdrawal', () => {
    const d = decodeUpdate(
      update({
        withdrawn: '18 0a0009',
        attrs: [MP_REACH_V6, MP_UNREACH_V6, ORIGIN, AS_PATH, NEXT_HOP, 'c0 08 00'],
        nlri: NLRI,
      }),
      EBGP,
    );
    expect(d.action).toBe('treat-as-withdraw');
    expect(withdrawals(d)).toEqual([
      '10.0.9.0/24',
      '2001:db8:2::/48',
      '10.0.1.0/24',
      '10.0.2.0/24',
      '2001:db8:1::/48',
    ]);
  });

  test('AFI/SAFI disable names the family and withdraws the rest of the message', () => {
    const d = decodeUpdate(update({ attrs: ['80 0f 06 0002 01 30 2001', ...BASE], nlri: NLRI }), EBGP);
    expect(d.disabledFamily).toEqual({ afi: Afi.Ipv6, safi: 1 });
    expect(withdrawals(d)).toEqual(['10.0.1.0/24', '10.0.2.0/24']);
  });

  test('attribute discard keeps the routes, without the discarded attribute', () => {
    const d = decodeUpdate(
      update({ attrs: [...BASE, '40 05 04 00000064', 'c0 07 05 0000006400'], nlri: NLRI }),
      EBGP,
    );
    expect(d.action).toBe('attribute-discard');
    expect(d.problems.map((p) => p.reason)).toEqual([
      'LOCAL_PREF at octet 43: received from an external peer',
      'AGGREGATOR at octet 50: length 5, expected 8',
    ]);
    expect(prefixStrings(d.announced!)).toEqual(['10.0.1.0/24', '10.0.2.0/24']);
    expect(d.attributes!.localPref).toBeNull();
    expect(d.attributes!.aggregator).toBeNull();
    expect(d.attributes!.canonical).toEqual(hex(BASE.join('')));
  });

  test('the AS_TRANS placeholder alone is a valid two-octet path', () => {
    const d = decodeUpdate(
      update({ attrs: [ORIGIN, `40 02 04 02 01 ${AS_TRANS.toString(16)}`, NEXT_HOP], nlri: NLRI }),
      EBGP_TWO_OCTET,
    );
    expect(asPathToString(d.attributes!.asPath)).toBe(String(AS_TRANS));
  });
});

describe('decoding state and the attribute cache', () => {
  test('a decoded UPDATE stays as it was after later ones are decoded', () => {
    // One decoder and shared prefix storage serve every message: nothing may leak between them.
    const first = decodeUpdate(update({ withdrawn: '18 0a0009', attrs: BASE, nlri: NLRI }), EBGP);
    const snapshot = JSON.stringify({
      withdrawn: withdrawals(first),
      announced: prefixStrings(first.announced!),
      path: asPathToString(first.attributes!.asPath),
    });
    for (let n = 0; n < 3000; n++) {
      const other = decodeUpdate(
        update({
          withdrawn: '20 c6336401',
          attrs: [ORIGIN, AS_PATH_TWO_OCTET, NEXT_HOP],
          nlri: '20 0b000001',
        }),
        EBGP_TWO_OCTET,
      );
      expect(prefixStrings(other.announced!)).toEqual(['11.0.0.1/32']);
    }
    const bad = decodeUpdate(update({ attrs: [ORIGIN, NEXT_HOP], nlri: NLRI }), EBGP);
    expect(bad.action).not.toBe('none');
    expect(
      JSON.stringify({
        withdrawn: withdrawals(first),
        announced: prefixStrings(first.announced!),
        path: asPathToString(first.attributes!.asPath),
      }),
    ).toBe(snapshot);
    expect(first.problems).toEqual([]);
  });

  test('optional attributes of one UPDATE do not carry over to the next', () => {
    const MED = '80 04 04 00000005';
    const LOCAL_PREF = '40 05 04 00000064';
    const COMMUNITIES = 'c0 08 04 fde80001';
    const ATOMIC = '40 06 00';
    const full = decodeUpdate(
      update({ attrs: [...BASE, MED, LOCAL_PREF, ATOMIC, COMMUNITIES], nlri: NLRI }),
      IBGP,
    );
    expect(full.attributes).toMatchObject({ med: 5, localPref: 100, atomicAggregate: true });
    const plain = decodeUpdate(update({ attrs: BASE, nlri: NLRI }), IBGP).attributes!;
    expect(plain).toMatchObject({ med: null, localPref: null, atomicAggregate: false, communities: null });
    expect(decodeUpdate(update({ attrs: BASE, nlri: NLRI }), EBGP).problems).toEqual([]);
  });

  test('sections with the same hash are told apart by their octets', () => {
    const cache = new AttributeCache();
    const a = hex('4001010040020600');
    const b = hex('4001010140020600');
    const decodedA = decodeUpdate(update({ attrs: BASE, nlri: NLRI }), EBGP).attributes!;
    const decodedB = decodeUpdate(
      update({ attrs: [ORIGIN, AS_PATH, NEXT_HOP, '40 05 04 00000064'], nlri: NLRI }),
      IBGP,
    ).attributes!;
    // Forced to one hash, as a collision would put them.
    cache.set(7, a, 0, a.length, decodedA);
    cache.set(7, b, 0, b.length, decodedB);
    expect(cache.get(7, a, 0, a.length)).toBe(decodedA);
    expect(cache.get(7, b, 0, b.length)).toBe(decodedB);
    expect(cache.get(7, a, 0, a.length - 1)).toBeUndefined();
    expect(cache.get(sectionHash(a, 0, a.length), a, 0, a.length)).toBeUndefined();
    // The cache keeps copies: changing the message afterwards changes nothing.
    a[3] = 9;
    expect(cache.get(7, hex('4001010040020600'), 0, 8)).toBe(decodedA);
  });

  test('a full cache starts over', () => {
    const cache = new AttributeCache(2);
    const attributes = decodeUpdate(update({ attrs: BASE, nlri: NLRI }), EBGP).attributes!;
    const sections = [hex('01'), hex('02'), hex('03')];
    for (const section of sections) cache.set(sectionHash(section, 0, 1), section, 0, 1, attributes);
    expect(cache.size).toBe(1);
    expect(cache.get(sectionHash(sections[2]!, 0, 1), sections[2]!, 0, 1)).toBe(attributes);
    expect(cache.get(sectionHash(sections[0]!, 0, 1), sections[0]!, 0, 1)).toBeUndefined();
  });

  test('a cached attribute section decodes to the same object, and a different one does not', () => {
    const cache = new AttributeCache();
    const first = decodeUpdate(update({ attrs: BASE, nlri: NLRI }), EBGP, cache);
    const again = decodeUpdate(update({ attrs: BASE, nlri: '20 0a000101' }), EBGP, cache);
    expect(again.attributes).toBe(first.attributes);
    expect(prefixStrings(again.announced!)).toEqual(['10.0.1.1/32']);
    const other = decodeUpdate(
      update({ attrs: [ORIGIN, AS_PATH, '40 03 04 c0000202'], nlri: NLRI }),
      EBGP,
      cache,
    );
    expect(other.attributes).not.toBe(first.attributes);
    expect(other.attributes!.nextHop).toBe(0xc0000202);
  });
});
