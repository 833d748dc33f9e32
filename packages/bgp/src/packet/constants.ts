// Numbers of the BGP-4 wire format (RFC 4271 and the extensions margay speaks), with the
// human-readable names used in logs. Plain `as const` objects rather than enums: they compile
// to object literals the JIT can inline, and the matching union types keep call sites typed.

export const BGP_VERSION = 4;
export const BGP_PORT = 179;
/** The "AS_TRANS" placeholder for a four-octet AS in two-octet fields (RFC 6793). */
export const AS_TRANS = 23456;
export const HEADER_LENGTH = 19;
export const MARKER_LENGTH = 16;
/** RFC 4271 §4.1: the largest message without RFC 8654 extended messages. */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654: the largest message once extended messages are negotiated (not OPEN/KEEPALIVE). */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

export const MessageType = {
  Open: 1,
  Update: 2,
  Notification: 3,
  Keepalive: 4,
  RouteRefresh: 5,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Attribute Flags octet (RFC 4271 §4.3). The low four bits are unused. */
export const AttrFlag = {
  Optional: 0x80,
  Transitive: 0x40,
  Partial: 0x20,
  ExtendedLength: 0x10,
} as const;

export const AttrType = {
  Origin: 1,
  AsPath: 2,
  NextHop: 3,
  MultiExitDisc: 4,
  LocalPref: 5,
  AtomicAggregate: 6,
  Aggregator: 7,
  Communities: 8,
  OriginatorId: 9,
  ClusterList: 10,
  MpReachNlri: 14,
  MpUnreachNlri: 15,
  ExtendedCommunities: 16,
  As4Path: 17,
  As4Aggregator: 18,
  LargeCommunities: 32,
} as const;
export type AttrType = (typeof AttrType)[keyof typeof AttrType];

export const Origin = { Igp: 0, Egp: 1, Incomplete: 2 } as const;
export type Origin = (typeof Origin)[keyof typeof Origin];

export const AsPathSegmentType = {
  AsSet: 1,
  AsSequence: 2,
  AsConfedSequence: 3,
  AsConfedSet: 4,
} as const;
export type AsPathSegmentType = (typeof AsPathSegmentType)[keyof typeof AsPathSegmentType];

export const Afi = { Ipv4: 1, Ipv6: 2 } as const;
export type Afi = (typeof Afi)[keyof typeof Afi];

export const Safi = { Unicast: 1 } as const;
export type Safi = (typeof Safi)[keyof typeof Safi];

/** An address family: AFI/SAFI as numbers, since peers may announce families we do not know. */
export interface Family {
  readonly afi: number;
  readonly safi: number;
}

export const OptionalParameterType = {
  Capabilities: 2,
  /** RFC 9072: marks the extended optional parameters length encoding. */
  ExtendedLength: 255,
} as const;

export const CapabilityCode = {
  Multiprotocol: 1,
  RouteRefresh: 2,
  ExtendedMessage: 6,
  GracefulRestart: 64,
  FourOctetAs: 65,
  AddPath: 69,
  EnhancedRouteRefresh: 70,
} as const;

export const ErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FiniteStateMachine: 5,
  Cease: 6,
  RouteRefreshMessage: 7,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const MessageHeaderSubcode = {
  ConnectionNotSynchronized: 1,
  BadMessageLength: 2,
  BadMessageType: 3,
} as const;

export const OpenSubcode = {
  Unspecific: 0,
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

export const UpdateSubcode = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnownAttribute: 2,
  MissingWellKnownAttribute: 3,
  AttributeFlagsError: 4,
  AttributeLengthError: 5,
  InvalidOrigin: 6,
  InvalidNextHop: 8,
  OptionalAttributeError: 9,
  InvalidNetworkField: 10,
  MalformedAsPath: 11,
} as const;

/** RFC 6608 subcodes of the Finite State Machine Error code. */
export const FsmSubcode = {
  Unspecified: 0,
  UnexpectedMessageInOpenSent: 1,
  UnexpectedMessageInOpenConfirm: 2,
  UnexpectedMessageInEstablished: 3,
} as const;

/** RFC 4486 Cease subcodes (and RFC 8538's Hard Reset). */
export const CeaseSubcode = {
  MaximumNumberOfPrefixesReached: 1,
  AdministrativeShutdown: 2,
  PeerDeconfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  OtherConfigurationChange: 6,
  ConnectionCollisionResolution: 7,
  OutOfResources: 8,
  HardReset: 9,
} as const;

/** RFC 7313 subcodes of the ROUTE-REFRESH Message Error code. */
export const RouteRefreshSubcode = { InvalidMessageLength: 1 } as const;

/** RFC 7313 Message Subtype of a ROUTE-REFRESH message. */
export const RouteRefreshSubtype = {
  Normal: 0,
  BeginningOfRouteRefresh: 1,
  EndOfRouteRefresh: 2,
} as const;
export type RouteRefreshSubtype = (typeof RouteRefreshSubtype)[keyof typeof RouteRefreshSubtype];

const ERROR_NAMES: Record<number, string> = {
  [ErrorCode.MessageHeader]: 'Message Header Error',
  [ErrorCode.OpenMessage]: 'OPEN Message Error',
  [ErrorCode.UpdateMessage]: 'UPDATE Message Error',
  [ErrorCode.HoldTimerExpired]: 'Hold Timer Expired',
  [ErrorCode.FiniteStateMachine]: 'Finite State Machine Error',
  [ErrorCode.Cease]: 'Cease',
  [ErrorCode.RouteRefreshMessage]: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  [ErrorCode.MessageHeader]: {
    1: 'Connection Not Synchronized',
    2: 'Bad Message Length',
    3: 'Bad Message Type',
  },
  [ErrorCode.OpenMessage]: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
  },
  [ErrorCode.UpdateMessage]: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  [ErrorCode.FiniteStateMachine]: {
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  [ErrorCode.Cease]: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
  },
  [ErrorCode.RouteRefreshMessage]: { 1: 'Invalid Message Length' },
};

/** "UPDATE Message Error / Malformed AS_PATH"; unknown numbers are shown as numbers. */
export function errorName(code: number, subcode: number): string {
  const codeName = ERROR_NAMES[code] ?? `Error code ${code}`;
  if (subcode === 0) return codeName;
  const subcodeName = SUBCODE_NAMES[code]?.[subcode] ?? `subcode ${subcode}`;
  return `${codeName} / ${subcodeName}`;
}

const MESSAGE_TYPE_NAMES: Record<number, string> = {
  1: 'OPEN',
  2: 'UPDATE',
  3: 'NOTIFICATION',
  4: 'KEEPALIVE',
  5: 'ROUTE-REFRESH',
};

export function messageTypeName(type: number): string {
  return MESSAGE_TYPE_NAMES[type] ?? `message type ${type}`;
}

const ATTR_TYPE_NAMES: Record<number, string> = {
  1: 'ORIGIN',
  2: 'AS_PATH',
  3: 'NEXT_HOP',
  4: 'MULTI_EXIT_DISC',
  5: 'LOCAL_PREF',
  6: 'ATOMIC_AGGREGATE',
  7: 'AGGREGATOR',
  8: 'COMMUNITIES',
  9: 'ORIGINATOR_ID',
  10: 'CLUSTER_LIST',
  14: 'MP_REACH_NLRI',
  15: 'MP_UNREACH_NLRI',
  16: 'EXTENDED COMMUNITIES',
  17: 'AS4_PATH',
  18: 'AS4_AGGREGATOR',
  32: 'LARGE_COMMUNITY',
};

export function attrTypeName(type: number): string {
  return ATTR_TYPE_NAMES[type] ?? `attribute type ${type}`;
}

export function familyName(family: Family): string {
  const afi = family.afi === Afi.Ipv4 ? 'IPv4' : family.afi === Afi.Ipv6 ? 'IPv6' : `AFI ${family.afi}`;
  const safi = family.safi === Safi.Unicast ? 'unicast' : `SAFI ${family.safi}`;
  return `${afi} ${safi}`;
}
