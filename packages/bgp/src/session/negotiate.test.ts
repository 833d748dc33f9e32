import { type Capabilities, NO_CAPABILITIES } from '../packet/capabilities';
import { Afi, ErrorCode, OpenSubcode, Safi } from '../packet/constants';
import type { OpenMessage } from '../packet/open';
import { type LocalSide, negotiate } from './negotiate';

const V4 = { afi: Afi.Ipv4, safi: Safi.Unicast };
const V6 = { afi: Afi.Ipv6, safi: Safi.Unicast };
const local: LocalSide = {
  localAs: 65001,
  holdTime: 90,
  capabilities: {
    ...NO_CAPABILITIES,
    multiprotocol: [V4, V6],
    routeRefresh: true,
    enhancedRouteRefresh: true,
    extendedMessage: true,
    fourOctetAs: 65001,
  },
  required: [],
};
const open = (holdTime: number, caps: Partial<Capabilities>, asn = 65002): OpenMessage => ({
  version: 4,
  asn,
  myAsField: asn,
  holdTime,
  bgpId: 0x0a000002,
  capabilities: { ...NO_CAPABILITIES, ...caps },
});

describe('OPEN negotiation', () => {
  test('hold time is the smaller one, keepalive a third; options need both sides', () => {
    const result = negotiate(
      local,
      open(30, { multiprotocol: [V4], routeRefresh: true, fourOctetAs: 65002 }),
    );
    if (!result.ok) throw new Error(result.reason);
    expect(result.session).toMatchObject({
      holdTime: 30,
      keepaliveTime: 10,
      families: [V4],
      routeRefresh: true,
      enhancedRouteRefresh: false,
      gracefulRestart: false,
      context: { fourOctetAs: true, extendedMessages: false, ibgp: false },
    });
  });

  test('hold time 0 on either side disables keepalives', () => {
    const result = negotiate(local, open(0, {}));
    expect(result.ok && [result.session.holdTime, result.session.keepaliveTime]).toEqual([0, 0]);
  });

  test('a peer without the multiprotocol capability speaks IPv4 unicast (RFC 4760)', () => {
    const result = negotiate(local, open(90, {}, 65001));
    expect(result.ok && result.session.families).toEqual([V4]);
    expect(result.ok && result.session.context).toEqual({
      fourOctetAs: false,
      extendedMessages: false,
      ibgp: true,
    });
  });

  test('no family in common is an Unsupported Capability naming ours', () => {
    const result = negotiate(
      { ...local, capabilities: { ...local.capabilities, multiprotocol: [V6] } },
      open(90, {}),
    );
    if (result.ok) throw new Error('negotiated without a common family');
    expect([result.notification.code, result.notification.subcode]).toEqual([
      ErrorCode.OpenMessage,
      OpenSubcode.UnsupportedCapability,
    ]);
    expect(result.notification.data).toEqual(Buffer.from([1, 4, 0, 2, 0, 1]));
    expect(result.reason).toMatch(/no address family in common/);
  });

  test('missing required capabilities are listed in the NOTIFICATION data', () => {
    const result = negotiate({ ...local, required: ['route-refresh', 'extended-message'] }, open(90, {}));
    if (result.ok) throw new Error('negotiated without required capabilities');
    expect(result.notification.data).toEqual(Buffer.from([2, 0, 6, 0]));
    expect(result.reason).toBe('peer lacks required capabilities: route-refresh, extended-message');
  });
});
