// Table throughput: 1,000,000 IPv4 /32s from one eBGP peer in batches of 500 (one UPDATE
// each), flushed after every batch to one eBGP peer and 50 iBGP route-reflector clients.
// Prints routes per second and bytes per route held (the JS heap plus the typed arrays the
// tables live in, which sit outside it). Informative only: run it from dist with
//   pnpm -s build && node --expose-gc packages/bgp/dist/bench/table-bench.js

import { Afi, asSequence, type PrefixList, pathAttributes, Rib } from '../index';

const ROUTES = 1_000_000;
const PER_UPDATE = 500;
const CLIENTS = 50;

const rib = new Rib({ asn: 65000, routerId: 0x0a000001, nextHopIpv4: '10.0.0.1' });
rib.addPeer({ index: 1, address: '192.0.2.1', asn: 65001, routerId: 0xc0000201, importPolicy: 'all' });
rib.addPeer({ index: 2, address: '192.0.2.2', asn: 65002, routerId: 0xc0000202, exportPolicy: 'all' });
for (let i = 0; i < CLIENTS; i++) {
  rib.addPeer({
    index: 3 + i,
    address: `10.0.1.${i + 1}`,
    asn: 65000,
    routerId: 0x0a000100 + i + 1,
    routeReflectorClient: true,
  });
}

// What the outputs are sent, counted rather than kept: a socket write would not keep them either.
let bytesOut = 0;
let writes = 0;
const send = (messages: Buffer): void => {
  bytesOut += messages.length;
  writes++;
};
for (let index = 2; index < 3 + CLIENTS; index++) rib.peerUp(index, send);

const attributes = pathAttributes({ origin: 0, asPath: asSequence([65001]), nextHop: 0xc0000201 });
const batches: PrefixList[] = [];
const words = new Uint32Array(ROUTES);
for (let i = 0; i < ROUTES; i++) words[i] = 0x64000000 + i;
const lengths = new Uint8Array(ROUTES).fill(32);
for (let i = 0; i < ROUTES; i += PER_UPDATE) {
  batches.push({
    afi: Afi.Ipv4,
    words: words.subarray(i, i + PER_UPDATE),
    lengths: lengths.subarray(i, i + PER_UPDATE),
  });
}

const gc = (globalThis as { gc?: () => void }).gc;
/** Collects twice: the first full GC can leave typed-array backing stores of dead tables unfreed. */
function settle(): void {
  gc?.();
  gc?.();
}
function held(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}
settle();
const heldBefore = held();
const start = process.hrtime.bigint();
for (const batch of batches) {
  rib.announce(1, batch, attributes);
  rib.flush();
}
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
settle();
const heldAfter = held();

console.log(
  `${ROUTES} routes in ${seconds.toFixed(2)} s: ${Math.round(ROUTES / seconds).toLocaleString('en')} routes/s`,
);
console.log(
  `sent ${(bytesOut / 1e6).toFixed(1)} MB in ${writes} writes to 1 eBGP + ${CLIENTS} iBGP client outputs`,
);
const perRoute = (heldAfter - heldBefore) / ROUTES;
console.log(
  `${((heldAfter - heldBefore) / 1e6).toFixed(1)} MB held (heap + typed arrays): ${Math.round(perRoute)} bytes per route` +
    (gc ? '' : ' (run with --expose-gc for a settled figure)'),
);
console.log(`table: ${JSON.stringify(rib.stats())}; rss ${(process.memoryUsage().rss / 1e6).toFixed(0)} MB`);
