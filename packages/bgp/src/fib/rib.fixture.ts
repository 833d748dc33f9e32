// A real Rib with two iBGP peers, for feeding KernelFib the changes the daemon would.

import { Afi, Origin, Safi } from '../packet/constants';
import { parseIpv4, parseIpv6 } from '../packet/ip';
import { prefixList } from '../packet/prefixes';
import { pathAttributes } from '../table/attribute-store';
import { type BestChange, Rib } from '../table/rib';

export const PEER_A = 1;
export const PEER_B = 2;

export interface FibFeed {
  readonly rib: Rib;
  /** Every batch of changes the Rib reported. */
  readonly batches: BestChange[][];
  announce(peer: number, prefixes: string[], nextHop: string): void;
  withdraw(peer: number, prefixes: string[]): void;
}

export function fibFeed(): FibFeed {
  const rib = new Rib({
    asn: 65000,
    routerId: parseIpv4('10.99.0.1'),
    nextHopIpv4: '10.99.0.1',
    nextHopIpv6: '2001:db8:99::1',
  });
  for (const index of [PEER_A, PEER_B]) {
    rib.addPeer({
      index,
      address: `10.99.0.${index + 1}`,
      asn: 65000,
      routerId: parseIpv4(`10.99.0.${index + 1}`),
      families: [
        { afi: Afi.Ipv4, safi: Safi.Unicast },
        { afi: Afi.Ipv6, safi: Safi.Unicast },
      ],
    });
  }
  const batches: BestChange[][] = [];
  rib.onChange((changes) => batches.push([...changes]));
  const afiOf = (prefixes: string[]) => (prefixes[0]?.includes(':') ? Afi.Ipv6 : Afi.Ipv4);
  return {
    rib,
    batches,
    announce(peer, prefixes, nextHop) {
      const attributes = nextHop.includes(':')
        ? pathAttributes({ origin: Origin.Igp, localPref: 100 }, wordsBuffer(parseIpv6(nextHop)))
        : pathAttributes({ origin: Origin.Igp, localPref: 100, nextHop: parseIpv4(nextHop) });
      rib.announce(peer, prefixList(afiOf(prefixes), prefixes), attributes);
      rib.flush();
    },
    withdraw(peer, prefixes) {
      rib.withdraw(peer, prefixList(afiOf(prefixes), prefixes));
      rib.flush();
    },
  };
}

function wordsBuffer(words: Uint32Array): Buffer {
  const buffer = Buffer.alloc(16);
  for (const [n, word] of words.entries()) buffer.writeUInt32BE(word, n * 4);
  return buffer;
}
