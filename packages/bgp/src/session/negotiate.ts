// What the two OPENs agree on (RFC 4271 §4.2, RFC 5492): hold time, families and the optional
// behaviours both sides announced. A capability we require but the peer lacks is refused with
// OPEN Message Error / Unsupported Capability, listing what is missing (RFC 5492 §3).

import { keepaliveTime } from '../fsm/transitions';
import {
  type Capabilities,
  encodeCapabilities,
  type GracefulRestart,
  NO_CAPABILITIES,
} from '../packet/capabilities';
import { Afi, ErrorCode, type Family, familyName, OpenSubcode, Safi } from '../packet/constants';
import { type Notification, notification } from '../packet/notification';
import type { OpenMessage } from '../packet/open';
import type { SessionContext } from '../packet/session';
import type { RequiredCapability } from './config';

export interface NegotiatedSession {
  readonly peerAs: number;
  readonly peerBgpId: number;
  /** Seconds; 0 means neither keepalives nor a hold timer. */
  readonly holdTime: number;
  readonly keepaliveTime: number;
  /** Families both sides announced. */
  readonly families: readonly Family[];
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  /** The peer's graceful restart capability, when it announced one. */
  readonly peerGracefulRestart: GracefulRestart | null;
  /** We announced graceful restart too: the peer's restart may be handled gracefully. */
  readonly gracefulRestart: boolean;
  readonly context: SessionContext;
  readonly peerCapabilities: Capabilities;
}

export type Negotiation =
  | { readonly ok: true; readonly session: NegotiatedSession }
  | { readonly ok: false; readonly notification: Notification; readonly reason: string };

export interface LocalSide {
  readonly localAs: number;
  readonly holdTime: number;
  readonly capabilities: Capabilities;
  readonly required: readonly RequiredCapability[];
}

/** RFC 4760 §1: a speaker without the multiprotocol capability speaks IPv4 unicast. */
const IMPLIED_FAMILIES: readonly Family[] = [{ afi: Afi.Ipv4, safi: Safi.Unicast }];

export function negotiate(local: LocalSide, open: OpenMessage): Negotiation {
  const peer = open.capabilities;
  const mine = local.capabilities;
  const missing = missingCapabilities(local, peer);
  if (missing.length > 0) {
    return unsupported(
      { ...NO_CAPABILITIES, ...Object.assign({}, ...missing.map((m) => m.capability)) },
      `peer lacks required capabilities: ${missing.map((m) => m.name).join(', ')}`,
    );
  }
  const peerFamilies = peer.multiprotocol.length > 0 ? peer.multiprotocol : IMPLIED_FAMILIES;
  const ourFamilies = mine.multiprotocol.length > 0 ? mine.multiprotocol : IMPLIED_FAMILIES;
  const families = ourFamilies.filter((f) => peerFamilies.some((p) => p.afi === f.afi && p.safi === f.safi));
  if (families.length === 0) {
    return unsupported(
      { ...NO_CAPABILITIES, multiprotocol: ourFamilies },
      `no address family in common: we offer ${ourFamilies.map(familyName).join(', ')}, the peer ${peerFamilies.map(familyName).join(', ')}`,
    );
  }
  // RFC 4271 §4.2: the smaller of the two; the decoder already refused 1 and 2.
  const holdTime = Math.min(local.holdTime, open.holdTime);
  const extendedMessages = mine.extendedMessage && peer.extendedMessage;
  return {
    ok: true,
    session: {
      peerAs: open.asn,
      peerBgpId: open.bgpId,
      holdTime,
      keepaliveTime: holdTime > 0 ? keepaliveTime(holdTime) : 0,
      families,
      routeRefresh: mine.routeRefresh && peer.routeRefresh,
      enhancedRouteRefresh: mine.enhancedRouteRefresh && peer.enhancedRouteRefresh,
      peerGracefulRestart: peer.gracefulRestart,
      gracefulRestart: mine.gracefulRestart !== null && peer.gracefulRestart !== null,
      context: {
        fourOctetAs: mine.fourOctetAs !== null && peer.fourOctetAs !== null,
        extendedMessages,
        ibgp: open.asn === local.localAs,
      },
      peerCapabilities: peer,
    },
  };
}

function unsupported(missing: Capabilities, reason: string): Negotiation {
  return {
    ok: false,
    notification: notification(
      ErrorCode.OpenMessage,
      OpenSubcode.UnsupportedCapability,
      encodeCapabilities(missing),
    ),
    reason,
  };
}

function missingCapabilities(
  local: LocalSide,
  peer: Capabilities,
): { name: RequiredCapability; capability: Partial<Capabilities> }[] {
  const mine = local.capabilities;
  const checks: Record<RequiredCapability, [boolean, Partial<Capabilities>]> = {
    'four-octet-as': [peer.fourOctetAs !== null, { fourOctetAs: local.localAs }],
    'route-refresh': [peer.routeRefresh, { routeRefresh: true }],
    'enhanced-route-refresh': [peer.enhancedRouteRefresh, { enhancedRouteRefresh: true }],
    'graceful-restart': [peer.gracefulRestart !== null, { gracefulRestart: mine.gracefulRestart }],
    'extended-message': [peer.extendedMessage, { extendedMessage: true }],
  };
  return local.required
    .filter((name) => !checks[name][0])
    .map((name) => ({ name, capability: checks[name][1] }));
}
