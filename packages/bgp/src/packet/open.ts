// OPEN messages (RFC 4271 §4.2) with capabilities in optional parameters (RFC 5492) and the
// extended optional parameters length of RFC 9072. Decoding validates per RFC 4271 §6.2 and
// returns the NOTIFICATION to answer a bad OPEN with.

import {
  type Capabilities,
  type CapabilitiesBuilder,
  decodeCapabilities,
  emptyCapabilities,
  encodeCapabilities,
  NO_CAPABILITIES,
} from './capabilities';
import {
  AS_TRANS,
  BGP_VERSION,
  ErrorCode,
  HEADER_LENGTH,
  MessageHeaderSubcode,
  MessageType,
  OpenSubcode,
  OptionalParameterType,
} from './constants';
import { allocMessage } from './header';
import { formatIpv4 } from './ip';
import { type Notification, notification } from './notification';

export interface OpenMessage {
  readonly version: number;
  /** The speaker's AS: from the four-octet AS capability when present, else the My Autonomous System field. */
  readonly asn: number;
  /** The My Autonomous System field as sent (AS_TRANS when the AS needs four octets). */
  readonly myAsField: number;
  /** Seconds; 0 (no keepalives) or at least 3. */
  readonly holdTime: number;
  /** BGP Identifier as uint32. */
  readonly bgpId: number;
  readonly capabilities: Capabilities;
}

export interface OpenSpec {
  readonly asn: number;
  readonly holdTime: number;
  readonly bgpId: number;
  /** Missing entries are not advertised. An AS above 65535 requires `fourOctetAs: asn`. */
  readonly capabilities?: Partial<Capabilities>;
}

export type OpenResult =
  | { readonly ok: true; readonly open: OpenMessage }
  | { readonly ok: false; readonly notification: Notification; readonly reason: string };

/** What the local configuration expects of the peer; checked when given. */
export interface OpenExpectations {
  /** The configured peer AS: anything else is a Bad Peer AS. */
  readonly peerAs?: number;
  /** Our AS and BGP Identifier: an iBGP peer must not share our identifier (RFC 6286 §2.2). */
  readonly localAs?: number;
  readonly localBgpId?: number;
}

const FIXED_OPEN_LENGTH = 10;
/** Optional parameters longer than this need the RFC 9072 encoding. */
const MAX_SHORT_PARAMETERS = 255;

export function encodeOpen(spec: OpenSpec): Buffer {
  const caps: Capabilities = { ...NO_CAPABILITIES, ...spec.capabilities };
  const { asn, holdTime, bgpId } = spec;
  if (!Number.isInteger(asn) || asn < 1 || asn > 0xffffffff)
    throw new Error(`AS ${asn} is not in 1..4294967295`);
  if (asn > 0xffff && caps.fourOctetAs !== asn) {
    throw new Error(`AS ${asn} needs four octets: advertise the four-octet AS capability with it`);
  }
  if (!Number.isInteger(holdTime) || holdTime < 0 || holdTime > 0xffff || holdTime === 1 || holdTime === 2) {
    throw new Error(`hold time ${holdTime} must be 0 or 3..65535 seconds`);
  }
  if (!Number.isInteger(bgpId) || bgpId < 1 || bgpId > 0xffffffff) {
    throw new Error(`BGP Identifier ${bgpId} must be a non-zero uint32`);
  }
  const capabilities = encodeCapabilities(caps);
  const extended = capabilities.length + 2 > MAX_SHORT_PARAMETERS;
  // One Capabilities parameter holds them all; RFC 9072 widens its length field when needed.
  const parametersLength = capabilities.length === 0 ? 0 : capabilities.length + (extended ? 3 : 2);
  const msg = allocMessage(MessageType.Open, FIXED_OPEN_LENGTH + (extended ? 3 : 0) + parametersLength);
  let o = HEADER_LENGTH;
  msg[o++] = BGP_VERSION;
  o = msg.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, o);
  o = msg.writeUInt16BE(holdTime, o);
  o = msg.writeUInt32BE(bgpId, o);
  if (extended) {
    msg[o++] = OptionalParameterType.ExtendedLength;
    msg[o++] = OptionalParameterType.ExtendedLength;
    o = msg.writeUInt16BE(parametersLength, o);
    msg[o++] = OptionalParameterType.Capabilities;
    o = msg.writeUInt16BE(capabilities.length, o);
  } else {
    msg[o++] = parametersLength;
    if (parametersLength > 0) {
      msg[o++] = OptionalParameterType.Capabilities;
      msg[o++] = capabilities.length;
    }
  }
  capabilities.copy(msg, o);
  return msg;
}

/** Decodes and validates an OPEN body (the message after its header). */
export function decodeOpen(body: Buffer, expect: OpenExpectations = {}): OpenResult {
  const fail = (code: number, subcode: number, reason: string, data?: Buffer): OpenResult => ({
    ok: false,
    notification: notification(code, subcode, data),
    reason,
  });
  const openError = (subcode: number, reason: string, data?: Buffer): OpenResult =>
    fail(ErrorCode.OpenMessage, subcode, reason, data);

  if (body.length < FIXED_OPEN_LENGTH) {
    const lengthField = Buffer.alloc(2);
    lengthField.writeUInt16BE(HEADER_LENGTH + body.length, 0);
    return fail(
      ErrorCode.MessageHeader,
      MessageHeaderSubcode.BadMessageLength,
      `OPEN of ${HEADER_LENGTH + body.length} octets is too short`,
      lengthField,
    );
  }
  const version = body[0]!;
  if (version !== BGP_VERSION) {
    // RFC 4271 §6.2: the data names the highest version we support.
    const supported = Buffer.alloc(2);
    supported.writeUInt16BE(BGP_VERSION, 0);
    return openError(
      OpenSubcode.UnsupportedVersionNumber,
      `BGP version ${version} is not supported`,
      supported,
    );
  }
  const myAsField = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  const bgpId = body.readUInt32BE(5);

  const caps = emptyCapabilities();
  const parameterProblem = decodeParameters(body, caps);
  if (parameterProblem) return openError(parameterProblem.subcode, parameterProblem.reason);

  const asn = caps.fourOctetAs ?? myAsField;
  // RFC 7607: AS 0 is never a valid peer AS.
  if (asn === 0) return openError(OpenSubcode.BadPeerAs, 'peer AS is 0');
  if (expect.peerAs !== undefined && asn !== expect.peerAs) {
    return openError(OpenSubcode.BadPeerAs, `peer AS is ${asn}, configured ${expect.peerAs}`);
  }
  if (holdTime === 1 || holdTime === 2) {
    return openError(OpenSubcode.UnacceptableHoldTime, `hold time ${holdTime} s is neither 0 nor at least 3`);
  }
  if (bgpId === 0) return openError(OpenSubcode.BadBgpIdentifier, 'BGP Identifier is 0.0.0.0');
  if (expect.localBgpId === bgpId && (expect.localAs === undefined || expect.localAs === asn)) {
    return openError(
      OpenSubcode.BadBgpIdentifier,
      `internal peer uses our BGP Identifier ${formatIpv4(bgpId)}`,
    );
  }
  return { ok: true, open: { version, asn, myAsField, holdTime, bgpId, capabilities: caps } };
}

/** Reads the optional parameters into `caps`; returns the OPEN error subcode and reason of the first problem. */
function decodeParameters(
  body: Buffer,
  caps: CapabilitiesBuilder,
): { subcode: number; reason: string } | null {
  const shortLength = body[9]!;
  // RFC 9072 §2: a first parameter of type 255 announces two-octet lengths throughout.
  const extended =
    shortLength === OptionalParameterType.ExtendedLength &&
    body.length > 10 &&
    body[10] === OptionalParameterType.ExtendedLength;
  const start = extended ? 13 : 10;
  if (extended && body.length < 13) {
    return { subcode: OpenSubcode.Unspecific, reason: 'extended optional parameters length is truncated' };
  }
  const end = start + (extended ? body.readUInt16BE(11) : shortLength);
  if (end !== body.length) {
    return {
      subcode: OpenSubcode.Unspecific,
      reason: `optional parameters length ${end - start} does not match the ${body.length - start} octets present`,
    };
  }
  const headerSize = extended ? 3 : 2;
  for (let i = start; i < end; ) {
    if (end - i < headerSize)
      return {
        subcode: OpenSubcode.Unspecific,
        reason: `optional parameter at octet ${HEADER_LENGTH + i} is truncated`,
      };
    const type = body[i]!;
    const length = extended ? body.readUInt16BE(i + 1) : body[i + 1]!;
    const vStart = i + headerSize;
    const vEnd = vStart + length;
    if (vEnd > end) {
      return {
        subcode: OpenSubcode.Unspecific,
        reason: `optional parameter at octet ${HEADER_LENGTH + i} runs past the message`,
      };
    }
    if (type !== OptionalParameterType.Capabilities) {
      return {
        subcode: OpenSubcode.UnsupportedOptionalParameter,
        reason: `optional parameter type ${type} is not supported`,
      };
    }
    const problem = decodeCapabilities(body, vStart, vEnd, caps);
    if (problem) return { subcode: OpenSubcode.Unspecific, reason: `malformed ${problem}` };
    i = vEnd;
  }
  return null;
}
