import { decodeRangeResponse, encodeRangeRequest } from './etcd-range-codec';
import type { KeyValue } from './types';

// A protobuf writer for the test's side, written from the wire format, not from the codec.
function varint(value: bigint): number[] {
  let rest = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (rest >= 0x80n) {
    out.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  out.push(Number(rest));
  return out;
}
const tag = (field: number, wireType: number) => varint(BigInt((field << 3) | wireType));
const int64Field = (field: number, value: bigint) => [...tag(field, 0), ...varint(value)];
const bytesField = (field: number, bytes: number[] | Buffer) => [
  ...tag(field, 2),
  ...varint(BigInt(bytes.length)),
  ...bytes,
];
/** Fields etcd may add one day, of every wire type: a decoder must step over them. */
const unknownFields = (field: number) => [
  ...int64Field(field, 123456789n),
  ...tag(field + 1, 1),
  ...[1, 2, 3, 4, 5, 6, 7, 8],
  ...bytesField(field + 2, [9, 9, 9]),
  ...tag(field + 3, 5),
  ...[1, 2, 3, 4],
];

interface StoredKv {
  key: Buffer;
  value: Buffer;
  createRevision: bigint;
  modRevision: bigint;
  version: bigint;
  lease: bigint;
}

function keyValueMessage(kv: StoredKv, shuffle: (parts: number[][]) => number[][]): number[] {
  const parts = [
    bytesField(1, kv.key),
    int64Field(2, kv.createRevision),
    int64Field(3, kv.modRevision),
    int64Field(4, kv.version),
    kv.value.length > 0 ? bytesField(5, kv.value) : [], // proto3 leaves out empty and zero fields
    kv.lease !== 0n ? int64Field(6, kv.lease) : [],
    unknownFields(20),
  ];
  return shuffle(parts).flat();
}

function rangeResponse(
  revision: bigint,
  kvs: StoredKv[],
  more: boolean,
  shuffle: (parts: number[][]) => number[][],
) {
  const header = [
    ...int64Field(1, 0xdeadbeefcafen),
    ...int64Field(2, 7n),
    ...int64Field(3, revision),
    ...int64Field(4, 5n),
  ];
  const parts = [
    bytesField(1, header),
    ...kvs.map((kv) => bytesField(2, keyValueMessage(kv, shuffle))),
    more ? int64Field(3, 1n) : [],
    int64Field(4, BigInt(kvs.length)),
    unknownFields(30),
  ];
  return Buffer.from(parts.flat());
}

/** What etcd3 and our old conversion gave: Number() of the int64's decimal text; leases as text. */
function expected(kv: StoredKv): KeyValue {
  return {
    key: kv.key.toString(),
    value: kv.value.toString(),
    createRevision: Number(kv.createRevision.toString()),
    modRevision: Number(kv.modRevision.toString()),
    version: Number(kv.version.toString()),
    ...(kv.lease !== 0n && { lease: kv.lease.toString() }),
  };
}

function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('decodeRangeResponse', () => {
  test('random responses decode to what etcd3 plus Number() gave, whatever the field order', () => {
    const INT64S = [
      0n,
      1n,
      127n,
      128n,
      300n,
      2n ** 31n,
      2n ** 48n + 5n,
      2n ** 49n,
      2n ** 53n + 1n,
      2n ** 62n,
      -1n,
      -(2n ** 40n),
    ];
    const TEXTS = ['/margay/a', '/margay/ü/日本', '', '{"kind":"x"}', 'x'.repeat(300)];
    for (let seed = 1; seed <= 300; seed++) {
      const next = random(seed);
      const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
      const shuffle = (parts: number[][]) => [...parts].sort(() => next() - 0.5);
      const kvs: StoredKv[] = Array.from({ length: Math.floor(next() * 5) }, () => ({
        key: Buffer.from(pick(TEXTS)),
        value: next() < 0.1 ? Buffer.from([0xff, 0xfe, 0x41]) : Buffer.from(pick(TEXTS)), // also invalid UTF-8
        createRevision: pick(INT64S),
        modRevision: pick(INT64S),
        version: pick(INT64S),
        lease: next() < 0.5 ? 0n : pick([...INT64S, 2n ** 63n - 1n, 7587869345234556731n]),
      }));
      const revision = pick(INT64S);
      const more = next() < 0.5;
      const decoded = decodeRangeResponse(rangeResponse(revision, kvs, more, shuffle));
      expect(decoded.kvs).toStrictEqual(kvs.map(expected));
      expect(decoded.revision).toBe(Number(revision.toString()));
      expect(decoded.more).toBe(more);
      expect(decoded.lastKey).toStrictEqual(kvs.length === 0 ? undefined : kvs[kvs.length - 1]!.key);
    }
  });

  test('an empty response is revision 0, no keys, no more', () => {
    expect(decodeRangeResponse(Buffer.alloc(0))).toStrictEqual({
      revision: 0,
      kvs: [],
      more: false,
      lastKey: undefined,
    });
  });

  test.each([
    ['a truncated varint', [0x08, 0x80]],
    ['a field longer than its message', [0x12, 0x05, 0x0a]],
    ['an unknown wire type', [0x0e]],
  ])('bytes that are not a RangeResponse throw: %s', (_name, bytes) => {
    expect(() => decodeRangeResponse(Buffer.from(bytes))).toThrow(/etcd range response/);
  });
});

describe('encodeRangeRequest', () => {
  test('writes key, range_end, limit and revision as etcd reads them', () => {
    const encoded = encodeRangeRequest({
      key: Buffer.from('/a'),
      rangeEnd: Buffer.from('/b'),
      limit: 500,
      revision: 2 ** 40,
    });
    expect([...encoded]).toEqual([
      ...bytesField(1, Buffer.from('/a')),
      ...bytesField(2, Buffer.from('/b')),
      ...int64Field(3, 500n),
      ...int64Field(4, 2n ** 40n),
    ]);
  });

  test('leaves out zero and empty fields, as proto3 does', () => {
    expect([
      ...encodeRangeRequest({ key: Buffer.from([0]), rangeEnd: Buffer.alloc(0), limit: 0, revision: 0 }),
    ]).toEqual(bytesField(1, [0]));
  });

  test('refuses a limit or revision that is not a non-negative integer', () => {
    expect(() =>
      encodeRangeRequest({ key: Buffer.from('a'), rangeEnd: Buffer.alloc(0), limit: -1, revision: 0 }),
    ).toThrow(/field 3/);
    expect(() =>
      encodeRangeRequest({ key: Buffer.from('a'), rangeEnd: Buffer.alloc(0), limit: 1, revision: 1.5 }),
    ).toThrow(/field 4/);
  });
});
