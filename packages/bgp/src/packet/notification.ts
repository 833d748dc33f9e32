// NOTIFICATION messages (RFC 4271 §4.5) and the RFC 9003 shutdown communication that Cease /
// Administrative Shutdown and Administrative Reset may carry.

import { CeaseSubcode, ErrorCode, errorName, HEADER_LENGTH, MessageType } from './constants';
import { allocMessage } from './header';

/** An error to report to the peer (or received from it): code, subcode and the data field. */
export interface Notification {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

const NO_DATA = Buffer.alloc(0);

export function notification(code: number, subcode: number, data: Buffer = NO_DATA): Notification {
  return { code, subcode, data };
}

export function encodeNotification(n: Notification): Buffer {
  const msg = allocMessage(MessageType.Notification, 2 + n.data.length);
  msg[HEADER_LENGTH] = n.code;
  msg[HEADER_LENGTH + 1] = n.subcode;
  n.data.copy(msg, HEADER_LENGTH + 2);
  return msg;
}

/**
 * Decodes a NOTIFICATION body (the message after its header). Returns null when the body is
 * shorter than code + subcode; RFC 4271 §6.4 forbids answering a bad NOTIFICATION, so the
 * caller can only log it.
 */
export function decodeNotification(body: Buffer): Notification | null {
  if (body.length < 2) return null;
  return { code: body[0]!, subcode: body[1]!, data: Buffer.from(body.subarray(2)) };
}

const SHUTDOWN_COMMUNICATION_MAX = 255;

function carriesShutdownCommunication(code: number, subcode: number): boolean {
  return (
    code === ErrorCode.Cease &&
    (subcode === CeaseSubcode.AdministrativeShutdown || subcode === CeaseSubcode.AdministrativeReset)
  );
}

/** A Cease NOTIFICATION; shutdown and reset may carry an operator message (RFC 9003). */
export function ceaseNotification(subcode: number, communication?: string): Notification {
  if (communication === undefined) return notification(ErrorCode.Cease, subcode);
  if (!carriesShutdownCommunication(ErrorCode.Cease, subcode)) {
    throw new Error(
      `a shutdown communication fits only Administrative Shutdown or Reset, not Cease subcode ${subcode}`,
    );
  }
  const text = Buffer.from(communication, 'utf8');
  if (text.length > SHUTDOWN_COMMUNICATION_MAX) {
    throw new Error(
      `shutdown communication is ${text.length} octets of UTF-8; RFC 9003 allows at most ${SHUTDOWN_COMMUNICATION_MAX}`,
    );
  }
  return notification(ErrorCode.Cease, subcode, Buffer.concat([Buffer.of(text.length), text]));
}

/** The RFC 9003 operator message of a received Cease, or null when there is none (or it is malformed). */
export function shutdownCommunication(n: Notification): string | null {
  if (!carriesShutdownCommunication(n.code, n.subcode) || n.data.length === 0) return null;
  const length = n.data[0]!;
  if (length === 0 || 1 + length > n.data.length) return null;
  return n.data.toString('utf8', 1, 1 + length);
}

/** One line for logs: names, the shutdown message if any, otherwise the data in hex. */
export function describeNotification(n: Notification): string {
  const name = errorName(n.code, n.subcode);
  const message = shutdownCommunication(n);
  if (message !== null) return `${name}: ${JSON.stringify(message)}`;
  return n.data.length > 0 ? `${name} (data ${n.data.toString('hex')})` : name;
}
