// Capabilities advertised in OPEN (RFC 5492) and the ones margay understands: multiprotocol
// (RFC 4760), route refresh (RFC 2918), extended messages (RFC 8654), graceful restart
// (RFC 4724, N bit RFC 8538), four-octet AS (RFC 6793), ADD-PATH (RFC 7911) and enhanced
// route refresh (RFC 7313). Anything else is kept as raw bytes.

import { CapabilityCode, type Family, HEADER_LENGTH } from './constants';

export interface GracefulRestartFamily extends Family {
  /** F bit: forwarding state was preserved across the restart. */
  readonly forwardingState: boolean;
}

export interface GracefulRestart {
  /** R bit: the sender has restarted. */
  readonly restarting: boolean;
  /** N bit (RFC 8538): the sender supports graceful restart after a NOTIFICATION. */
  readonly notification: boolean;
  /** Seconds, 0..4095. */
  readonly restartTime: number;
  readonly families: readonly GracefulRestartFamily[];
}

export interface AddPathFamily extends Family {
  readonly receive: boolean;
  readonly send: boolean;
}

export interface Capabilities {
  readonly multiprotocol: readonly Family[];
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  readonly extendedMessage: boolean;
  /** The AS number of the four-octet AS capability, or null when it is absent. */
  readonly fourOctetAs: number | null;
  readonly gracefulRestart: GracefulRestart | null;
  readonly addPath: readonly AddPathFamily[];
  readonly unknown: readonly { readonly code: number; readonly value: Buffer }[];
}

export const NO_CAPABILITIES: Capabilities = {
  multiprotocol: [],
  routeRefresh: false,
  enhancedRouteRefresh: false,
  extendedMessage: false,
  fourOctetAs: null,
  gracefulRestart: null,
  addPath: [],
  unknown: [],
};

const GR_RESTARTING = 0x8000;
const GR_NOTIFICATION = 0x4000;
const GR_TIME_MASK = 0x0fff;
const GR_FORWARDING_STATE = 0x80;
const ADD_PATH_RECEIVE = 1;
const ADD_PATH_SEND = 2;

/** Encodes capabilities as a sequence of capability TLVs (code, length, value). Throws on out-of-range values. */
export function encodeCapabilities(caps: Capabilities): Buffer {
  const tlvs: Buffer[] = [];
  const tlv = (code: number, value: Buffer = Buffer.alloc(0)): void => {
    if (value.length > 255) throw new Error(`capability ${code} value of ${value.length} octets exceeds 255`);
    tlvs.push(Buffer.of(code, value.length), value);
  };
  for (const family of caps.multiprotocol) tlv(CapabilityCode.Multiprotocol, multiprotocolValue(family));
  if (caps.routeRefresh) tlv(CapabilityCode.RouteRefresh);
  if (caps.enhancedRouteRefresh) tlv(CapabilityCode.EnhancedRouteRefresh);
  if (caps.extendedMessage) tlv(CapabilityCode.ExtendedMessage);
  const gr = caps.gracefulRestart;
  if (gr) {
    if (!Number.isInteger(gr.restartTime) || gr.restartTime < 0 || gr.restartTime > GR_TIME_MASK) {
      throw new Error(`graceful restart time ${gr.restartTime} is not in 0..4095 seconds`);
    }
    const flags = Buffer.allocUnsafe(2);
    flags.writeUInt16BE(
      (gr.restarting ? GR_RESTARTING : 0) | (gr.notification ? GR_NOTIFICATION : 0) | gr.restartTime,
      0,
    );
    const families = gr.families.map((f) => familyValue(f, f.forwardingState ? GR_FORWARDING_STATE : 0));
    tlv(CapabilityCode.GracefulRestart, Buffer.concat([flags, ...families]));
  }
  if (caps.fourOctetAs !== null) {
    const value = Buffer.allocUnsafe(4);
    value.writeUInt32BE(caps.fourOctetAs, 0);
    tlv(CapabilityCode.FourOctetAs, value);
  }
  if (caps.addPath.length > 0) {
    tlv(
      CapabilityCode.AddPath,
      Buffer.concat(
        caps.addPath.map((f) =>
          familyValue(f, (f.receive ? ADD_PATH_RECEIVE : 0) | (f.send ? ADD_PATH_SEND : 0)),
        ),
      ),
    );
  }
  for (const { code, value } of caps.unknown) tlv(code, value);
  return Buffer.concat(tlvs);
}

/** RFC 4760 §8: AFI (2 octets), a reserved octet, SAFI. */
function multiprotocolValue(family: Family): Buffer {
  const value = Buffer.alloc(4);
  value.writeUInt16BE(family.afi, 0);
  value[3] = family.safi;
  return value;
}

/** The tuple of graceful restart and ADD-PATH: AFI (2 octets), SAFI, then a flags octet. */
function familyValue(family: Family, extra: number): Buffer {
  const value = Buffer.allocUnsafe(4);
  value.writeUInt16BE(family.afi, 0);
  value[2] = family.safi;
  value[3] = extra;
  return value;
}

/**
 * Decodes the capability TLVs in body[start, end) of an OPEN into `into`. Returns a
 * description of the first malformed capability (offsets counted from the message start), or null.
 */
export function decodeCapabilities(
  buf: Buffer,
  start: number,
  end: number,
  into: CapabilitiesBuilder,
): string | null {
  for (let i = start; i < end; ) {
    const at = HEADER_LENGTH + i;
    if (end - i < 2) return `capability header at octet ${at} is truncated`;
    const code = buf[i]!;
    const length = buf[i + 1]!;
    const vStart = i + 2;
    const vEnd = vStart + length;
    if (vEnd > end) return `capability ${code} at octet ${at} runs past its optional parameter`;
    const problem = decodeCapability(buf, code, vStart, vEnd, into);
    if (problem) return `capability ${code} at octet ${at}: ${problem}`;
    i = vEnd;
  }
  return null;
}

/** Capabilities as decoding collects them (they may span several optional parameters). */
export interface CapabilitiesBuilder {
  multiprotocol: Family[];
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  extendedMessage: boolean;
  fourOctetAs: number | null;
  gracefulRestart: GracefulRestart | null;
  addPath: AddPathFamily[];
  unknown: { code: number; value: Buffer }[];
}

export function emptyCapabilities(): CapabilitiesBuilder {
  return { ...NO_CAPABILITIES, multiprotocol: [], addPath: [], unknown: [] };
}

function decodeCapability(
  buf: Buffer,
  code: number,
  start: number,
  end: number,
  caps: CapabilitiesBuilder,
): string | null {
  const length = end - start;
  const family = (at: number): Family => ({ afi: buf.readUInt16BE(at), safi: buf[at + 2]! });
  switch (code) {
    case CapabilityCode.Multiprotocol:
      if (length !== 4) return `length ${length}, expected 4`;
      caps.multiprotocol.push({ afi: buf.readUInt16BE(start), safi: buf[start + 3]! });
      return null;
    case CapabilityCode.RouteRefresh:
    case CapabilityCode.EnhancedRouteRefresh:
    case CapabilityCode.ExtendedMessage:
      if (length !== 0) return `length ${length}, expected 0`;
      if (code === CapabilityCode.RouteRefresh) caps.routeRefresh = true;
      else if (code === CapabilityCode.EnhancedRouteRefresh) caps.enhancedRouteRefresh = true;
      else caps.extendedMessage = true;
      return null;
    case CapabilityCode.GracefulRestart: {
      if (length < 2 || (length - 2) % 4 !== 0) return `length ${length}, expected 2 + 4 per family`;
      const flags = buf.readUInt16BE(start);
      const families: GracefulRestartFamily[] = [];
      for (let i = start + 2; i < end; i += 4) {
        families.push({ ...family(i), forwardingState: (buf[i + 3]! & GR_FORWARDING_STATE) !== 0 });
      }
      caps.gracefulRestart = {
        restarting: (flags & GR_RESTARTING) !== 0,
        notification: (flags & GR_NOTIFICATION) !== 0,
        restartTime: flags & GR_TIME_MASK,
        families,
      };
      return null;
    }
    case CapabilityCode.FourOctetAs:
      if (length !== 4) return `length ${length}, expected 4`;
      caps.fourOctetAs = buf.readUInt32BE(start);
      return null;
    case CapabilityCode.AddPath:
      if (length % 4 !== 0) return `length ${length}, expected 4 per family`;
      for (let i = start; i < end; i += 4) {
        const mode = buf[i + 3]!;
        // RFC 7911 §4: a tuple with another Send/Receive value counts as not received.
        if (mode < 1 || mode > 3) continue;
        caps.addPath.push({
          ...family(i),
          receive: (mode & ADD_PATH_RECEIVE) !== 0,
          send: (mode & ADD_PATH_SEND) !== 0,
        });
      }
      return null;
    default:
      caps.unknown.push({ code, value: Buffer.from(buf.subarray(start, end)) });
      return null;
  }
}
