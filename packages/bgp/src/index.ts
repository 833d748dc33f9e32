// @margay/bgp — margay's BGP-4 speaker. This increment holds the wire codec (src/packet).

export {
  type AsPath,
  type AsPathSegment,
  asPathContains,
  asPathFromSegments,
  asPathLength,
  asPathSegments,
  asPathToString,
  asSequence,
  EMPTY_AS_PATH,
  prependAs,
} from './packet/as-path';
export { type AttributeSetSpec, buildAttributes } from './packet/attribute-builder';
export {
  type AddPathFamily,
  type Capabilities,
  type GracefulRestart,
  type GracefulRestartFamily,
  NO_CAPABILITIES,
} from './packet/capabilities';
export {
  Afi,
  AS_TRANS,
  AsPathSegmentType,
  AttrFlag,
  AttrType,
  attrTypeName,
  BGP_PORT,
  BGP_VERSION,
  CapabilityCode,
  CeaseSubcode,
  ErrorCode,
  errorName,
  type Family,
  FsmSubcode,
  familyName,
  HEADER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageHeaderSubcode,
  MessageType,
  messageTypeName,
  OpenSubcode,
  Origin,
  RouteRefreshSubcode,
  RouteRefreshSubtype,
  Safi,
  UpdateSubcode,
} from './packet/constants';
export { type Frame, MessageFramer } from './packet/framer';
export { encodeKeepalive } from './packet/header';
export { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './packet/ip';
export {
  ceaseNotification,
  decodeNotification,
  describeNotification,
  encodeNotification,
  type Notification,
  notification,
  shutdownCommunication,
} from './packet/notification';
export {
  decodeOpen,
  encodeOpen,
  type OpenExpectations,
  type OpenMessage,
  type OpenResult,
  type OpenSpec,
} from './packet/open';
export type { Aggregator, PathAttributes } from './packet/path-attributes';
export { emptyPrefixList, type PrefixList, prefixList, prefixStrings } from './packet/prefixes';
export {
  decodeRouteRefresh,
  encodeRouteRefresh,
  type RouteRefresh,
  type RouteRefreshResult,
} from './packet/route-refresh';
export { maxUpdateLength, type SessionContext } from './packet/session';
export {
  type DecodedUpdate,
  decodeUpdate,
  type UpdateAction,
  type UpdateProblem,
} from './packet/update-decode';
export {
  type Announcement,
  encodeAnnouncements,
  encodeEndOfRib,
  encodeWithdrawals,
} from './packet/update-encode';
