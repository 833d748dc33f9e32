// Codec throughput: 1,000,000 IPv4 /32s in UPDATEs of 500 prefixes, encoded and then framed
// and decoded as if read from a socket in 64 KiB chunks. Prints prefixes per second for each
// direction (best of a few rounds, after a warm-up). Informative only: run it from dist with
//   pnpm -s build && node packages/bgp/dist/bench/codec-bench.js

import {
  Afi,
  asSequence,
  buildAttributes,
  decodeUpdate,
  encodeAnnouncements,
  MessageFramer,
  type PrefixList,
  type SessionContext,
} from '../index';

const PREFIXES = 1_000_000;
const PER_UPDATE = 500;
const ROUNDS = 5;
const SOCKET_CHUNK = 64 * 1024;

const ctx: SessionContext = { fourOctetAs: true, extendedMessages: false, ibgp: false };
const attributes = buildAttributes({ origin: 0, asPath: asSequence([65002]), nextHop: 0xc0000202 }, ctx);

// 100.0.0.0 upwards, as bgperf generates its /32s.
const words = new Uint32Array(PREFIXES);
for (let i = 0; i < PREFIXES; i++) words[i] = 0x64000000 + i;
const lengths = new Uint8Array(PREFIXES).fill(32);
const batches: PrefixList[] = [];
for (let i = 0; i < PREFIXES; i += PER_UPDATE) {
  batches.push({
    afi: Afi.Ipv4,
    words: words.subarray(i, i + PER_UPDATE),
    lengths: lengths.subarray(i, i + PER_UPDATE),
  });
}

function encodeAll(): Buffer[] {
  return batches.map((prefixes) => encodeAnnouncements({ attributes, prefixes }, ctx));
}

function decodeAll(chunks: Buffer[]): number {
  const framer = new MessageFramer();
  let decoded = 0;
  for (const chunk of chunks) {
    framer.push(chunk);
    for (let frame = framer.next(); frame; frame = framer.next()) {
      if (frame.kind === 'error') throw new Error(frame.reason);
      const update = decodeUpdate(frame.body, ctx);
      if (update.action !== 'none') throw new Error(update.problems[0]!.reason);
      decoded += update.announced!.lengths.length;
    }
  }
  return decoded;
}

function timed<T>(run: () => T): { result: T; seconds: number } {
  const start = process.hrtime.bigint();
  const result = run();
  return { result, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

function best(run: () => void): number {
  run(); // warm-up: let the JIT settle
  let fastest = Number.POSITIVE_INFINITY;
  for (let round = 0; round < ROUNDS; round++) fastest = Math.min(fastest, timed(run).seconds);
  return fastest;
}

const messages = encodeAll();
const stream = Buffer.concat(messages);
const chunks: Buffer[] = [];
for (let at = 0; at < stream.length; at += SOCKET_CHUNK) chunks.push(stream.subarray(at, at + SOCKET_CHUNK));
if (decodeAll(chunks) !== PREFIXES) throw new Error('decoded a different number of prefixes than encoded');

const encodeSeconds = best(() => void encodeAll());
const decodeSeconds = best(() => void decodeAll(chunks));
const rate = (seconds: number): string =>
  `${Math.round(PREFIXES / seconds).toLocaleString('en-US')} prefixes/s`;

console.log(
  `${PREFIXES.toLocaleString('en-US')} /32s in ${messages.length} UPDATEs of ${PER_UPDATE} (${stream.length.toLocaleString('en-US')} octets), node ${process.version}`,
);
console.log(`encode:         ${rate(encodeSeconds)} (${(encodeSeconds * 1000).toFixed(1)} ms)`);
console.log(`frame + decode: ${rate(decodeSeconds)} (${(decodeSeconds * 1000).toFixed(1)} ms)`);
