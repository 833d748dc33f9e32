import fc from 'fast-check';
import { ErrorCode, MessageHeaderSubcode, MessageType } from './constants';
import { type Frame, MessageFramer } from './framer';
import { encodeKeepalive, writeHeader } from './header';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const MARKER = 'ffffffffffffffffffffffffffffffff';

function message(type: number, bodyLength: number, fill = 0xab): Buffer {
  const msg = Buffer.alloc(19 + bodyLength, fill);
  writeHeader(msg, 0, msg.length, type as MessageType);
  return msg;
}

function drain(framer: MessageFramer): Frame[] {
  const frames: Frame[] = [];
  for (let f = framer.next(); f; f = framer.next()) {
    frames.push(f);
    if (f.kind === 'error') break;
  }
  return frames;
}

function errorOf(frames: Frame[]): { code: number; subcode: number; data: string } {
  const last = frames[frames.length - 1];
  if (last?.kind !== 'error') throw new Error('expected an error frame');
  return {
    code: last.notification.code,
    subcode: last.notification.subcode,
    data: last.notification.data.toString('hex'),
  };
}

describe('KEEPALIVE', () => {
  test('is a bare 19-octet header (RFC 4271 §4.4)', () => {
    expect(encodeKeepalive()).toEqual(hex(`${MARKER} 0013 04`));
  });
});

describe('MessageFramer', () => {
  test('returns messages inside one chunk as views of it, without copying', () => {
    const chunk = Buffer.concat([encodeKeepalive(), message(MessageType.Update, 10)]);
    const framer = new MessageFramer();
    framer.push(chunk);
    const frames = drain(framer);
    expect(frames.map((f) => f.kind === 'message' && f.type)).toEqual([
      MessageType.Keepalive,
      MessageType.Update,
    ]);
    const update = frames[1]!;
    if (update.kind !== 'message') throw new Error('not a message');
    expect(update.message.buffer).toBe(chunk.buffer);
    expect(update.message.byteOffset).toBe(chunk.byteOffset + 19);
    expect(update.body).toEqual(Buffer.alloc(10, 0xab));
  });

  test('assembles a message split across chunks, even inside its header', () => {
    const msg = message(MessageType.Update, 40);
    const framer = new MessageFramer();
    framer.push(msg.subarray(0, 7));
    expect(framer.next()).toBeNull();
    framer.push(msg.subarray(7, 25));
    expect(framer.next()).toBeNull();
    framer.push(msg.subarray(25));
    const frame = framer.next();
    expect(frame?.kind === 'message' && frame.message).toEqual(msg);
    expect(framer.next()).toBeNull();
  });

  test('property: any chunking of a message stream yields the same messages', () => {
    const messageArb = fc
      .record({
        type: fc.constantFrom(2, 3, 5),
        bodyLength: fc.integer({ min: 4, max: 300 }),
        fill: fc.nat(255),
      })
      .map(({ type, bodyLength, fill }) => message(type, bodyLength, fill));
    fc.assert(
      fc.property(
        fc.array(messageArb, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (msgs, cuts) => {
          const stream = Buffer.concat(msgs);
          const points = [...new Set(cuts.map((c) => c % stream.length))].sort((a, b) => a - b);
          const framer = new MessageFramer();
          const received: Buffer[] = [];
          let from = 0;
          for (const to of [...points, stream.length]) {
            framer.push(stream.subarray(from, to));
            from = to;
            for (const f of drain(framer)) {
              if (f.kind !== 'message') throw new Error(f.reason);
              received.push(Buffer.from(f.message));
            }
          }
          expect(received).toEqual(msgs);
        },
      ),
    );
  });

  const headerErrors: [string, Buffer, { code: number; subcode: number; data: string }][] = [
    [
      'marker not all ones → Connection Not Synchronized',
      hex('fffffffffffffffffffffffffffffffe 0013 04'),
      { code: ErrorCode.MessageHeader, subcode: MessageHeaderSubcode.ConnectionNotSynchronized, data: '' },
    ],
    [
      'length below 19 → Bad Message Length with the length field',
      hex(`${MARKER} 0012 04`),
      { code: ErrorCode.MessageHeader, subcode: MessageHeaderSubcode.BadMessageLength, data: '0012' },
    ],
    [
      'length above 4096 → Bad Message Length',
      hex(`${MARKER} 1001 02`),
      { code: ErrorCode.MessageHeader, subcode: MessageHeaderSubcode.BadMessageLength, data: '1001' },
    ],
    [
      'unknown type → Bad Message Type with the type',
      hex(`${MARKER} 0013 06`),
      { code: ErrorCode.MessageHeader, subcode: MessageHeaderSubcode.BadMessageType, data: '06' },
    ],
    [
      'KEEPALIVE longer than 19 → Bad Message Length',
      hex(`${MARKER} 0014 04 00`),
      { code: ErrorCode.MessageHeader, subcode: MessageHeaderSubcode.BadMessageLength, data: '0014' },
    ],
    [
      'UPDATE shorter than 23 → Bad Message Length',
      hex(`${MARKER} 0016 02 000000`),
      { code: ErrorCode.MessageHeader, subcode: MessageHeaderSubcode.BadMessageLength, data: '0016' },
    ],
    [
      'OPEN shorter than 29 → Bad Message Length',
      hex(`${MARKER} 001c 01 04 fde9 005a c0000201`),
      { code: ErrorCode.MessageHeader, subcode: MessageHeaderSubcode.BadMessageLength, data: '001c' },
    ],
    [
      'NOTIFICATION shorter than 21 → Bad Message Length',
      hex(`${MARKER} 0014 03 06`),
      { code: ErrorCode.MessageHeader, subcode: MessageHeaderSubcode.BadMessageLength, data: '0014' },
    ],
  ];
  test.each(headerErrors)('%s', (_name, bytes, expected) => {
    const framer = new MessageFramer();
    framer.push(bytes);
    expect(errorOf(drain(framer))).toEqual(expected);
  });

  test('after a header error every call repeats it: the stream cannot be resynchronised', () => {
    const framer = new MessageFramer();
    framer.push(hex(`${MARKER} 0013 09`));
    const first = framer.next();
    framer.push(encodeKeepalive());
    expect(framer.next()).toBe(first);
  });

  test('extended messages (RFC 8654) lift the limit for UPDATE, not for OPEN or KEEPALIVE', () => {
    const big = message(MessageType.Update, 10_000);
    const strict = new MessageFramer();
    strict.push(big);
    expect(errorOf(drain(strict)).subcode).toBe(MessageHeaderSubcode.BadMessageLength);

    const extended = new MessageFramer();
    extended.setExtendedMessages(true);
    extended.push(big);
    const frame = extended.next();
    expect(frame?.kind === 'message' && frame.message.length).toBe(big.length);

    extended.push(message(MessageType.Open, 5000));
    expect(errorOf(drain(extended))).toEqual({
      code: ErrorCode.MessageHeader,
      subcode: MessageHeaderSubcode.BadMessageLength,
      data: (19 + 5000).toString(16).padStart(4, '0'),
    });
  });
});
