// The 19-octet message header (RFC 4271 §4.1): 16 octets of all-ones marker, a two-octet
// total length and a one-octet type.

import { HEADER_LENGTH, MARKER_LENGTH, MessageType } from './constants';

/** Writes a header at `offset` of `buf`; `length` counts the whole message, header included. */
export function writeHeader(buf: Buffer, offset: number, length: number, type: MessageType): void {
  buf.fill(0xff, offset, offset + MARKER_LENGTH);
  buf.writeUInt16BE(length, offset + MARKER_LENGTH);
  buf[offset + MARKER_LENGTH + 2] = type;
}

/** A fresh message of `bodyLength` octets after the header; the header is already written. */
export function allocMessage(type: MessageType, bodyLength: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + bodyLength);
  writeHeader(buf, 0, HEADER_LENGTH + bodyLength, type);
  return buf;
}

/** A KEEPALIVE is a bare header (RFC 4271 §4.4). */
export function encodeKeepalive(): Buffer {
  return allocMessage(MessageType.Keepalive, 0);
}
