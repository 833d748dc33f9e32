// The monitor's view of one session: which of the benchmark's N /32s it holds right now. UPDATE
// bodies are walked in place (no objects per prefix); a bit per route makes "holds all N" exact
// even when a daemon re-announces or withdraws a route on the way.

import { FIRST_PREFIX } from './workload';

export class RouteCounter {
  private readonly bits: Uint8Array;
  private heldCount = 0;
  /** UPDATEs that carried at least one announced or withdrawn prefix. */
  updates = 0;

  constructor(readonly routes: number) {
    this.bits = new Uint8Array(Math.ceil(routes / 8));
  }

  get held(): number {
    return this.heldCount;
  }

  get complete(): boolean {
    return this.heldCount === this.routes;
  }

  /** Applies one IPv4 UPDATE body (the message after its 19-octet header). Throws if it is malformed. */
  applyUpdate(body: Buffer): void {
    if (body.length < 4) throw new Error(`UPDATE body of ${body.length} octets is too short`);
    const withdrawnEnd = 2 + body.readUInt16BE(0);
    if (withdrawnEnd + 2 > body.length)
      throw new Error('UPDATE withdrawn routes length overruns the message');
    const nlriStart = withdrawnEnd + 2 + body.readUInt16BE(withdrawnEnd);
    if (nlriStart > body.length) throw new Error('UPDATE path attribute length overruns the message');
    const changed = this.walk(body, 2, withdrawnEnd, false) + this.walk(body, nlriStart, body.length, true);
    if (changed > 0) this.updates++;
  }

  /** Marks or clears every prefix in body[start, end); returns how many prefixes it read. */
  private walk(body: Buffer, start: number, end: number, announce: boolean): number {
    let count = 0;
    let o = start;
    while (o < end) {
      const bits = body[o]!;
      const octets = (bits + 7) >> 3;
      if (bits > 32 || o + 1 + octets > end)
        throw new Error(`malformed IPv4 prefix at octet ${o} of the UPDATE`);
      if (bits === 32) this.mark(body.readUInt32BE(o + 1) - FIRST_PREFIX, announce);
      o += 1 + octets;
      count++;
    }
    return count;
  }

  private mark(index: number, announce: boolean): void {
    if (index < 0 || index >= this.routes) return;
    const mask = 1 << (index & 7);
    const byte = this.bits[index >> 3]!;
    const had = (byte & mask) !== 0;
    if (announce === had) return;
    this.bits[index >> 3] = byte ^ mask;
    this.heldCount += announce ? 1 : -1;
  }
}
