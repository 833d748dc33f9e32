// Splits the TCP byte stream into BGP messages and applies the header checks of RFC 4271
// §6.1. Messages that lie inside one received chunk are returned as views of it (no copy);
// only a message that spans chunks is copied, once, into a buffer of its exact length.

import {
  ErrorCode,
  HEADER_LENGTH,
  MARKER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageHeaderSubcode,
  MessageType,
  messageTypeName,
} from './constants';
import { type Notification, notification } from './notification';

export type Frame =
  | {
      readonly kind: 'message';
      readonly type: MessageType;
      /** The whole message, header included. */
      readonly message: Buffer;
      /** The message after its header: what the decoders take. */
      readonly body: Buffer;
    }
  | {
      readonly kind: 'error';
      /** Send this, then close the connection. */
      readonly notification: Notification;
      readonly reason: string;
    };

/** Smallest length of each message type (RFC 4271 §4.2–4.5); ROUTE-REFRESH is left to its decoder. */
const MIN_LENGTH: Record<number, number> = {
  [MessageType.Open]: 29,
  [MessageType.Update]: 23,
  [MessageType.Notification]: 21,
  [MessageType.Keepalive]: HEADER_LENGTH,
  [MessageType.RouteRefresh]: HEADER_LENGTH,
};

export class MessageFramer {
  private readonly chunks: Buffer[] = [];
  /** Read position in chunks[0]. */
  private offset = 0;
  /** A header split across chunks, gathered here first. */
  private readonly header = Buffer.alloc(HEADER_LENGTH);
  private headerFilled = 0;
  /** A message split across chunks, being filled. */
  private assembling: Buffer | null = null;
  private assembled = 0;
  private maxLength = MAX_MESSAGE_LENGTH;
  private failure: Frame | null = null;

  /** RFC 8654: after both sides advertised extended messages, all but OPEN and KEEPALIVE may reach 65535 octets. */
  setExtendedMessages(enabled: boolean): void {
    this.maxLength = enabled ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
  }

  /** Queues bytes received from the socket. The framer keeps views of them: do not reuse the buffer. */
  push(chunk: Buffer): void {
    if (chunk.length > 0) this.chunks.push(chunk);
  }

  /**
   * The next complete message, or null when more bytes are needed. After a header error every
   * call returns that error: the stream cannot be resynchronised.
   */
  next(): Frame | null {
    if (this.failure) return this.failure;
    if (this.assembling) return this.continueAssembly();
    if (this.headerFilled > 0) return this.continueHeader();
    const chunk = this.chunks[0];
    if (!chunk) return null;
    const available = chunk.length - this.offset;
    if (available < HEADER_LENGTH) {
      chunk.copy(this.header, 0, this.offset);
      this.headerFilled = available;
      this.dropHead();
      return this.continueHeader();
    }
    const length = this.checkHeader(chunk, this.offset);
    if (length < 0) return this.failure;
    if (available >= length) {
      const start = this.offset;
      this.offset += length;
      if (this.offset === chunk.length) this.dropHead();
      return new MessageFrame(chunk, start, length);
    }
    this.assembling = Buffer.allocUnsafe(length);
    this.assembled = chunk.copy(this.assembling, 0, this.offset);
    this.dropHead();
    return this.continueAssembly();
  }

  private continueHeader(): Frame | null {
    this.headerFilled += this.take(this.header, this.headerFilled, HEADER_LENGTH);
    if (this.headerFilled < HEADER_LENGTH) return null;
    this.headerFilled = 0;
    const length = this.checkHeader(this.header, 0);
    if (length < 0) return this.failure;
    this.assembling = Buffer.allocUnsafe(length);
    this.assembled = this.header.copy(this.assembling);
    return this.continueAssembly();
  }

  private continueAssembly(): Frame | null {
    const message = this.assembling!;
    this.assembled += this.take(message, this.assembled, message.length);
    if (this.assembled < message.length) return null;
    this.assembling = null;
    return new MessageFrame(message, 0, message.length);
  }

  /** Copies queued bytes into target[from, to); returns how many were copied. */
  private take(target: Buffer, from: number, to: number): number {
    let copied = 0;
    while (from + copied < to) {
      const chunk = this.chunks[0];
      if (!chunk) break;
      const n = chunk.copy(
        target,
        from + copied,
        this.offset,
        Math.min(chunk.length, this.offset + to - from - copied),
      );
      copied += n;
      this.offset += n;
      if (this.offset === chunk.length) this.dropHead();
    }
    return copied;
  }

  private dropHead(): void {
    this.chunks.shift();
    this.offset = 0;
  }

  /** The message length if the header at buf[at] is acceptable; otherwise records the failure and returns -1. */
  private checkHeader(buf: Buffer, at: number): number {
    for (let i = 0; i < MARKER_LENGTH; i++) {
      if (buf[at + i] !== 0xff) {
        return this.fail(
          notification(ErrorCode.MessageHeader, MessageHeaderSubcode.ConnectionNotSynchronized),
          'message header marker is not all ones',
        );
      }
    }
    const length = buf.readUInt16BE(at + MARKER_LENGTH);
    const type = buf[at + MARKER_LENGTH + 2]!;
    const max =
      type === MessageType.Open || type === MessageType.Keepalive ? MAX_MESSAGE_LENGTH : this.maxLength;
    if (length < HEADER_LENGTH || length > max) {
      return this.fail(
        notification(
          ErrorCode.MessageHeader,
          MessageHeaderSubcode.BadMessageLength,
          Buffer.from(buf.subarray(at + MARKER_LENGTH, at + MARKER_LENGTH + 2)),
        ),
        `message length ${length} is outside ${HEADER_LENGTH}..${max}`,
      );
    }
    const min = MIN_LENGTH[type];
    if (min === undefined) {
      return this.fail(
        notification(ErrorCode.MessageHeader, MessageHeaderSubcode.BadMessageType, Buffer.of(type)),
        `unknown message type ${type}`,
      );
    }
    if (length < min || (type === MessageType.Keepalive && length !== HEADER_LENGTH)) {
      return this.fail(
        notification(
          ErrorCode.MessageHeader,
          MessageHeaderSubcode.BadMessageLength,
          Buffer.from(buf.subarray(at + MARKER_LENGTH, at + MARKER_LENGTH + 2)),
        ),
        `${messageTypeName(type)} message length ${length} is invalid`,
      );
    }
    return length;
  }

  private fail(n: Notification, reason: string): -1 {
    this.failure = { kind: 'error', notification: n, reason };
    this.chunks.length = 0;
    this.assembling = null;
    return -1;
  }
}

/**
 * A message inside a received buffer. Its views are made when asked for: the receive path
 * reads only the body, and two views per message were a share of its garbage.
 */
class MessageFrame {
  readonly kind = 'message' as const;
  readonly type: MessageType;

  constructor(
    private readonly buffer: Buffer,
    private readonly start: number,
    private readonly length: number,
  ) {
    this.type = buffer[start + MARKER_LENGTH + 2] as MessageType;
  }

  /** The whole message, header included. */
  get message(): Buffer {
    return this.buffer.subarray(this.start, this.start + this.length);
  }

  /** The message after its header: what the decoders take. */
  get body(): Buffer {
    return this.buffer.subarray(this.start + HEADER_LENGTH, this.start + this.length);
  }
}
