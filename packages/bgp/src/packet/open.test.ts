import fc from 'fast-check';
import { type Capabilities, NO_CAPABILITIES } from './capabilities';
import { AS_TRANS, ErrorCode, MessageHeaderSubcode, OpenSubcode } from './constants';
import { decodeOpen, encodeOpen, type OpenResult } from './open';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const MARKER = 'ffffffffffffffffffffffffffffffff';
const body = (msg: Buffer): Buffer => msg.subarray(19);

function failure(result: OpenResult): { code: number; subcode: number; data: string } {
  if (result.ok) throw new Error('expected the OPEN to be rejected');
  const { code, subcode, data } = result.notification;
  return { code, subcode, data: data.toString('hex') };
}

// AS 65001, hold time 90 s, BGP Identifier 192.0.2.1.
const GOLDEN_OPEN = hex(`
  ${MARKER} 0033 01
  04 fde9 005a c0000201
  16 02 14
  01 04 0001 00 01
  40 06 0078 0001 01 80
  41 04 0000fde9`);

describe('OPEN', () => {
  test('encodes multiprotocol, graceful restart and four-octet AS exactly as RFC 4760/4724/6793 lay them out', () => {
    const msg = encodeOpen({
      asn: 65001,
      holdTime: 90,
      bgpId: 0xc0000201,
      capabilities: {
        multiprotocol: [{ afi: 1, safi: 1 }],
        fourOctetAs: 65001,
        gracefulRestart: {
          restarting: false,
          notification: false,
          restartTime: 120,
          families: [{ afi: 1, safi: 1, forwardingState: true }],
        },
      },
    });
    expect(msg).toEqual(GOLDEN_OPEN);
  });

  test('decodes the golden OPEN', () => {
    const result = decodeOpen(body(GOLDEN_OPEN));
    expect(result).toEqual({
      ok: true,
      open: {
        version: 4,
        asn: 65001,
        myAsField: 65001,
        holdTime: 90,
        bgpId: 0xc0000201,
        capabilities: {
          ...NO_CAPABILITIES,
          multiprotocol: [{ afi: 1, safi: 1 }],
          fourOctetAs: 65001,
          gracefulRestart: {
            restarting: false,
            notification: false,
            restartTime: 120,
            families: [{ afi: 1, safi: 1, forwardingState: true }],
          },
        },
      },
    });
  });

  test('a four-octet AS goes in the capability, with AS_TRANS in My Autonomous System', () => {
    const msg = encodeOpen({
      asn: 4200000001,
      holdTime: 0,
      bgpId: 1,
      capabilities: { fourOctetAs: 4200000001 },
    });
    expect(msg.readUInt16BE(20)).toBe(AS_TRANS);
    const result = decodeOpen(body(msg));
    expect(result.ok && [result.open.asn, result.open.myAsField]).toEqual([4200000001, AS_TRANS]);
  });

  test('decodes route refresh, enhanced route refresh, extended message, ADD-PATH and unknown capabilities', () => {
    const msg = hex(`
      ${MARKER} 0034 01 04 fde9 00b4 0a000001
      17 02 15
      02 00  46 00  06 00
      45 08 0001 01 03 0002 01 01
      49 03 616263`);
    const result = decodeOpen(body(msg));
    if (!result.ok) throw new Error(result.reason);
    expect(result.open.capabilities).toEqual({
      ...NO_CAPABILITIES,
      routeRefresh: true,
      enhancedRouteRefresh: true,
      extendedMessage: true,
      addPath: [
        { afi: 1, safi: 1, receive: true, send: true },
        { afi: 2, safi: 1, receive: true, send: false },
      ],
      unknown: [{ code: 0x49, value: Buffer.from('abc') }],
    });
  });

  test('capabilities spread over several optional parameters are merged', () => {
    const msg = hex(`${MARKER} 0029 01 04 fde9 005a 0a000001 0c 02 06 01 04 0001 0001 02 02 02 00`);
    const result = decodeOpen(body(msg));
    expect(result.ok && result.open.capabilities.multiprotocol).toEqual([{ afi: 1, safi: 1 }]);
    expect(result.ok && result.open.capabilities.routeRefresh).toBe(true);
  });

  test('uses the RFC 9072 extended optional parameters length when capabilities exceed 255 octets', () => {
    const unknown = Array.from({ length: 30 }, (_, i) => ({
      code: 200 + (i % 50),
      value: Buffer.alloc(8, i),
    }));
    const msg = encodeOpen({ asn: 65001, holdTime: 90, bgpId: 1, capabilities: { unknown } });
    expect(msg[28]).toBe(255); // Non-Ext OP Len
    expect(msg[29]).toBe(255); // Non-Ext OP Type
    const result = decodeOpen(body(msg));
    expect(result.ok && result.open.capabilities.unknown).toEqual(unknown);
  });

  test('property: every encodable OPEN decodes to what was encoded', () => {
    const family = fc.record({
      afi: fc.integer({ min: 1, max: 0xffff }),
      safi: fc.integer({ min: 1, max: 255 }),
    });
    const caps = fc.record({
      multiprotocol: fc.array(family, { maxLength: 4 }),
      routeRefresh: fc.boolean(),
      enhancedRouteRefresh: fc.boolean(),
      extendedMessage: fc.boolean(),
      gracefulRestart: fc.option(
        fc.record({
          restarting: fc.boolean(),
          notification: fc.boolean(),
          restartTime: fc.integer({ min: 0, max: 4095 }),
          families: fc.array(
            fc.record({
              afi: family.map((f) => f.afi),
              safi: family.map((f) => f.safi),
              forwardingState: fc.boolean(),
            }),
            {
              maxLength: 4,
            },
          ),
        }),
        { nil: null },
      ),
      addPath: fc.array(
        fc
          .record({
            afi: fc.integer({ min: 1, max: 2 }),
            safi: fc.constant(1),
            receive: fc.boolean(),
            send: fc.boolean(),
          })
          .filter((f) => f.receive || f.send),
        { maxLength: 2 },
      ),
      unknown: fc.array(
        fc.record({
          code: fc.integer({ min: 128, max: 255 }),
          value: fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
        }),
        { maxLength: 10 },
      ),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
        fc.integer({ min: 1, max: 0xffffffff }),
        caps,
        (asn, holdTime, bgpId, capabilities) => {
          const full: Capabilities = { ...capabilities, fourOctetAs: asn };
          const result = decodeOpen(body(encodeOpen({ asn, holdTime, bgpId, capabilities: full })));
          if (!result.ok) throw new Error(result.reason);
          expect(result.open).toEqual({
            version: 4,
            asn,
            myAsField: asn > 0xffff ? AS_TRANS : asn,
            holdTime,
            bgpId,
            capabilities: full,
          });
        },
      ),
    );
  });

  const valid = body(GOLDEN_OPEN);
  const withByte = (offset: number, ...bytes: number[]): Buffer => {
    const copy = Buffer.from(valid);
    copy.set(bytes, offset);
    return copy;
  };
  const rejections: [string, Buffer, object, { code: number; subcode: number; data: string }][] = [
    [
      'version 3 → Unsupported Version Number, data = version 4 as two octets',
      withByte(0, 3),
      {},
      { code: ErrorCode.OpenMessage, subcode: OpenSubcode.UnsupportedVersionNumber, data: '0004' },
    ],
    [
      'hold time 2 → Unacceptable Hold Time',
      withByte(3, 0, 2),
      {},
      { code: ErrorCode.OpenMessage, subcode: OpenSubcode.UnacceptableHoldTime, data: '' },
    ],
    [
      'BGP Identifier 0 → Bad BGP Identifier',
      withByte(5, 0, 0, 0, 0),
      {},
      { code: ErrorCode.OpenMessage, subcode: OpenSubcode.BadBgpIdentifier, data: '' },
    ],
    [
      'internal peer with our BGP Identifier → Bad BGP Identifier',
      valid,
      { localAs: 65001, localBgpId: 0xc0000201 },
      { code: ErrorCode.OpenMessage, subcode: OpenSubcode.BadBgpIdentifier, data: '' },
    ],
    [
      'AS other than the configured peer AS → Bad Peer AS',
      valid,
      { peerAs: 65002 },
      { code: ErrorCode.OpenMessage, subcode: OpenSubcode.BadPeerAs, data: '' },
    ],
    [
      'four-octet AS capability carrying AS 0 → Bad Peer AS (RFC 7607)',
      withByte(28, 0, 0, 0, 0),
      {},
      { code: ErrorCode.OpenMessage, subcode: OpenSubcode.BadPeerAs, data: '' },
    ],
    [
      'optional parameter type 1 (authentication) → Unsupported Optional Parameter',
      withByte(10, 1),
      {},
      { code: ErrorCode.OpenMessage, subcode: OpenSubcode.UnsupportedOptionalParameter, data: '' },
    ],
    [
      'optional parameters length disagreeing with the message → OPEN Message Error',
      withByte(9, 0x15),
      {},
      { code: ErrorCode.OpenMessage, subcode: OpenSubcode.Unspecific, data: '' },
    ],
    [
      'malformed multiprotocol capability (length 3) → OPEN Message Error',
      withByte(13, 3),
      {},
      { code: ErrorCode.OpenMessage, subcode: OpenSubcode.Unspecific, data: '' },
    ],
    [
      'body shorter than the fixed fields → Bad Message Length',
      valid.subarray(0, 9),
      {},
      { code: ErrorCode.MessageHeader, subcode: MessageHeaderSubcode.BadMessageLength, data: '001c' },
    ],
  ];
  test.each(rejections)('%s', (_name, bytes, expect_, expected) => {
    expect(failure(decodeOpen(bytes, expect_))).toEqual(expected);
  });

  test('rejects unencodable values with a message naming them', () => {
    expect(() => encodeOpen({ asn: 70000, holdTime: 90, bgpId: 1 })).toThrow(/AS 70000 needs four octets/);
    expect(() => encodeOpen({ asn: 65001, holdTime: 2, bgpId: 1 })).toThrow(/hold time 2/);
    expect(() => encodeOpen({ asn: 65001, holdTime: 90, bgpId: 0 })).toThrow(/BGP Identifier 0/);
    expect(() =>
      encodeOpen({
        asn: 65001,
        holdTime: 90,
        bgpId: 1,
        capabilities: {
          gracefulRestart: { restarting: false, notification: false, restartTime: 5000, families: [] },
        },
      }),
    ).toThrow(/graceful restart time 5000/);
  });
});
