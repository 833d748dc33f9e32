import { ErrorCode, RouteRefreshSubcode, RouteRefreshSubtype } from './constants';
import { decodeRouteRefresh, encodeRouteRefresh } from './route-refresh';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const MARKER = 'ffffffffffffffffffffffffffffffff';

describe('ROUTE-REFRESH', () => {
  test('encodes AFI, subtype and SAFI (RFC 2918 §3, RFC 7313 §3)', () => {
    expect(encodeRouteRefresh({ afi: 1, safi: 1 })).toEqual(hex(`${MARKER} 0017 05 0001 00 01`));
    expect(encodeRouteRefresh({ afi: 2, safi: 1 }, RouteRefreshSubtype.BeginningOfRouteRefresh)).toEqual(
      hex(`${MARKER} 0017 05 0002 01 01`),
    );
  });

  test.each([
    RouteRefreshSubtype.Normal,
    RouteRefreshSubtype.BeginningOfRouteRefresh,
    RouteRefreshSubtype.EndOfRouteRefresh,
  ])('subtype %i round-trips', (subtype) => {
    const msg = encodeRouteRefresh({ afi: 2, safi: 1 }, subtype);
    expect(decodeRouteRefresh(msg.subarray(19))).toEqual({
      kind: 'refresh',
      refresh: { family: { afi: 2, safi: 1 }, subtype },
    });
  });

  test('a BoRR with extra octets → ROUTE-REFRESH Message Error / Invalid Message Length quoting the message', () => {
    const result = decodeRouteRefresh(hex('0001 01 01 00'));
    expect(result.kind === 'error' && result.notification).toEqual({
      code: ErrorCode.RouteRefreshMessage,
      subcode: RouteRefreshSubcode.InvalidMessageLength,
      data: hex(`${MARKER} 0018 05 0001 01 01 00`),
    });
  });

  test('a body shorter than four octets is an Invalid Message Length', () => {
    expect(decodeRouteRefresh(hex('0001 00')).kind).toBe('error');
  });

  test('a plain request may carry ORF entries after its four octets (RFC 5291): accepted, entries ignored', () => {
    expect(decodeRouteRefresh(hex('0001 00 01 aabbcc')).kind).toBe('refresh');
  });

  test('reserved subtypes are ignored (RFC 7313 §5)', () => {
    expect(decodeRouteRefresh(hex('0001 03 01'))).toEqual({
      kind: 'ignore',
      reason: 'ROUTE-REFRESH subtype 3 is reserved',
    });
  });
});
