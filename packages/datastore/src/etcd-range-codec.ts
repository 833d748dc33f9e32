// etcd's Range request and response in protobuf wire format, for listing a prefix. The etcd3
// client decodes a response into protobufjs messages, turns every int64 into a string through
// `Long` (its proto-loader option `longs: String`) and every key and value into a Buffer slice;
// we then turned those back into numbers and strings. For felix's start (11,000 keys) that was
// ~50 ms of CPU and much of its garbage. This reads the response bytes once, straight into our
// KeyValues, and skips the fields we do not use (cluster and member ids, raft term, count).
//
// Messages (etcd api/etcdserverpb/rpc.proto and api/mvccpb/kv.proto):
//   RangeRequest  { bytes key = 1; bytes range_end = 2; int64 limit = 3; int64 revision = 4; ... }
//   RangeResponse { ResponseHeader header = 1; repeated KeyValue kvs = 2; bool more = 3; int64 count = 4; }
//   ResponseHeader { uint64 cluster_id = 1; uint64 member_id = 2; int64 revision = 3; uint64 raft_term = 4; }
//   KeyValue { bytes key = 1; int64 create_revision = 2; int64 mod_revision = 3; int64 version = 4;
//              bytes value = 5; int64 lease = 6; }

import type { KeyValue } from './types';

export interface RangeRequest {
  readonly key: Buffer;
  readonly rangeEnd: Buffer;
  /** 0: no limit. */
  readonly limit: number;
  /** 0: the latest revision. */
  readonly revision: number;
}

export interface RangeResult {
  /** The store's revision the response was read at (its header's). */
  readonly revision: number;
  readonly kvs: KeyValue[];
  readonly more: boolean;
  /** The last key's bytes as etcd sent them (the next page starts after them). */
  readonly lastKey: Buffer | undefined;
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

export function encodeRangeRequest(request: RangeRequest): Buffer {
  const parts: number[] = [];
  const bytes = (field: number, value: Buffer) => {
    if (value.length === 0) return; // proto3 leaves out empty fields
    writeVarint(parts, (field << 3) | LENGTH_DELIMITED);
    writeVarint(parts, value.length);
    for (const byte of value) parts.push(byte);
  };
  const int64 = (field: number, value: number) => {
    if (value === 0) return;
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new Error(`range request: field ${field} must be a non-negative integer, got ${value}`);
    }
    writeVarint(parts, (field << 3) | VARINT);
    writeVarint(parts, value);
  };
  bytes(1, request.key);
  bytes(2, request.rangeEnd);
  int64(3, request.limit);
  int64(4, request.revision);
  return Buffer.from(parts);
}

function writeVarint(out: number[], value: number): void {
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
}

/** Decodes a RangeResponse; throws on bytes that are not one (truncated, bad wire types). */
export function decodeRangeResponse(buffer: Buffer): RangeResult {
  const reader = new Reader(buffer, 0, buffer.length);
  let revision = 0;
  let more = false;
  const kvs: KeyValue[] = [];
  const lastKey = { start: 0, end: 0 };
  while (reader.position < reader.end) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 1 && wireType === LENGTH_DELIMITED) revision = readHeaderRevision(reader.embedded());
    else if (field === 2 && wireType === LENGTH_DELIMITED) kvs.push(readKeyValue(reader.embedded(), lastKey));
    else if (field === 3 && wireType === VARINT) more = reader.varint() !== 0;
    else reader.skip(wireType);
  }
  return {
    revision,
    kvs,
    more,
    lastKey: kvs.length === 0 ? undefined : buffer.subarray(lastKey.start, lastKey.end),
  };
}

function readHeaderRevision(reader: Reader): number {
  let revision = 0;
  while (reader.position < reader.end) {
    const tag = reader.varint();
    if (tag === ((3 << 3) | VARINT)) revision = reader.int64();
    else reader.skip(tag % 8);
  }
  return revision;
}

/** One KeyValue; `keyAt` is set to where its key's bytes are. */
function readKeyValue(reader: Reader, keyAt: { start: number; end: number }): KeyValue {
  let key = '';
  let value = '';
  let createRevision = 0;
  let modRevision = 0;
  let version = 0;
  let lease = '0';
  while (reader.position < reader.end) {
    const tag = reader.varint();
    switch (tag) {
      case (1 << 3) | LENGTH_DELIMITED:
        key = reader.utf8();
        keyAt.start = reader.textStart;
        keyAt.end = reader.position;
        break;
      case (2 << 3) | VARINT:
        createRevision = reader.int64();
        break;
      case (3 << 3) | VARINT:
        modRevision = reader.int64();
        break;
      case (4 << 3) | VARINT:
        version = reader.int64();
        break;
      case (5 << 3) | LENGTH_DELIMITED:
        value = reader.utf8();
        break;
      case (6 << 3) | VARINT:
        lease = reader.int64Text();
        break;
      default:
        reader.skip(tag % 8);
    }
  }
  // Lease ids are int64s that can exceed 2^53, so they stay text, as the rest of the store has them.
  // Two plain literals rather than a conditional spread: less code in a function every listed key
  // runs through.
  return lease === '0'
    ? { key, value, createRevision, modRevision, version }
    : { key, value, createRevision, modRevision, version, lease };
}

class Reader {
  /** Where the bytes of the last text read begin. */
  textStart = 0;

  constructor(
    private readonly buffer: Buffer,
    public position: number,
    public readonly end: number,
  ) {}

  /** An unsigned varint as a number (exact below 2^53; our tags and lengths are far below). */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw this.corrupt('a varint longer than 10 bytes');
  }

  /** An int64 as a number, as Number() of its decimal text would give (negative ones included). */
  int64(): number {
    const start = this.position;
    const value = this.varint();
    // Up to 7 bytes (< 2^49) the sum above is exact; longer ones (huge or negative) go through BigInt.
    return this.position - start <= 7 ? value : Number(this.bigInt64(start));
  }

  /** An int64 as decimal text, exactly (lease ids use all 64 bits). */
  int64Text(): string {
    const start = this.position;
    this.varint();
    return this.bigInt64(start).toString();
  }

  private bigInt64(start: number): bigint {
    let value = 0n;
    let shift = 0n;
    for (let i = start; i < this.position; i++) {
      value |= BigInt(this.buffer[i]! & 0x7f) << shift;
      shift += 7n;
    }
    return BigInt.asIntN(64, value);
  }

  utf8(): string {
    const length = this.length();
    this.textStart = this.position;
    const text = this.buffer.toString('utf8', this.position, this.position + length);
    this.position += length;
    return text;
  }

  embedded(): Reader {
    const length = this.length();
    const reader = new Reader(this.buffer, this.position, this.position + length);
    this.position += length;
    return reader;
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === FIXED64) this.advance(8);
    else if (wireType === LENGTH_DELIMITED) this.advance(this.length());
    else if (wireType === FIXED32) this.advance(4);
    else throw this.corrupt(`wire type ${wireType}`);
  }

  private length(): number {
    const length = this.varint();
    if (this.position + length > this.end) throw this.corrupt('a field longer than its message');
    return length;
  }

  private advance(count: number): void {
    if (this.position + count > this.end) throw this.corrupt('a field longer than its message');
    this.position += count;
  }

  private byte(): number {
    if (this.position >= this.end) throw this.corrupt('a truncated varint');
    return this.buffer[this.position++]!;
  }

  private corrupt(what: string): Error {
    return new Error(`etcd range response: ${what} at byte ${this.position}`);
  }
}
