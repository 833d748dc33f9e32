// @margay/bgp — margay's BGP-4 speaker: wire codec (packet), routing table (table), FSM and sessions, daemon (server, config, api, cli), FIB sync.

export { type JsonLogger, jsonLogger, type LogFields, type Logger, silentLogger } from '@margay/log';
// The daemon (margay-bgpd): configuration, server, management API.
export { BgpApiClient, BgpApiError, type ClientOptions } from './api/client';
export type { ApiEvent, ApiPeer, ApiRefreshRequest, ApiRibEntry, ApiRibFilter } from './api/messages';
export { PROTO_FILE } from './api/proto';
export { type ApiServer, startApiServer } from './api/service';
export {
  EXIT_ERROR,
  EXIT_OK,
  EXIT_USAGE,
  type Io,
  LOG_LEVELS,
  oneOf,
  type UntilSignalledOptions,
  untilSignalled,
} from './cli/daemon-cli';
export { loadConfig, parseConfig } from './config/load';
export {
  ConfigError,
  type DaemonConfig,
  type LogLevel,
  type PeerSettings,
  type PolicyConfig,
  type PrefixListEntry,
  type PrefixListPolicy,
  parseHostPort,
  validateConfig,
} from './config/schema';
// FIB sync (src/fib): best paths into the kernel through @margay/dataplane's route writer.
export { DEFAULT_BGP_PROTO, KernelFib, type KernelFibOptions } from './fib/kernel-fib';
// The RFC 4271 FSM (src/fsm).
export { type Clock, ManualClock, systemClock, type TimerHandle } from './fsm/clock';
export { type CollisionSides, type ConnectionDirection, collisionSurvivor } from './fsm/collision';
export { DEFAULT_FSM_CONFIG, Fsm, type FsmConfig, type FsmHandler, type SessionAction } from './fsm/machine';
export {
  type FsmAction,
  type FsmEvent,
  type FsmSnapshot,
  FsmState,
  type FsmTimings,
  INITIAL_SNAPSHOT,
  keepaliveTime,
  LARGE_HOLD_TIME,
  type TimerName,
  transition,
} from './fsm/transitions';
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
export { Daemon, type DaemonOptions } from './server/daemon';
export { type FibSink, noopFibSink } from './server/fib-sink';
export type { RibFilter, RouteView } from './server/routes';
export {
  BgpServer,
  type BgpServerOptions,
  type EndOfRibListener,
  type EventListener,
  type PeerView,
  type ReloadResult,
  type ServerEvent,
} from './server/server';
// Peer sessions over TCP (src/session).
export {
  type BgpPeerConfig,
  type GracefulRestartConfig,
  PeerConfigError,
  type RequiredCapability,
  type ResolvedPeerConfig,
  resolvePeerConfig,
} from './session/config';
export { BgpListener, type ListenerOptions } from './session/listener';
export { type LocalSide, type NegotiatedSession, type Negotiation, negotiate } from './session/negotiate';
export {
  BgpPeer,
  type PeerCounters,
  type PeerDown,
  type PeerHandler,
  type PeerOptions,
  type PeerStatus,
  type StateChange,
} from './session/peer';
// Routing table (src/table): RIBs, best path, route reflection, export.
export { pathAttributes } from './table/attribute-store';
export { DEFAULT_LOCAL_PREF, type PathView, selectBest } from './table/decision';
export {
  LOCAL_PEER,
  type LocalConfig,
  MAX_PEER_INDEX,
  type Peer,
  type PeerConfig,
  type Policy,
  type PolicyRoute,
} from './table/peer';
export { type BestChange, type ChangeListener, Rib, type Route } from './table/rib';
export { type ExportedAttributes, NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED } from './table/rules';
export type { Send } from './table/update-group';
