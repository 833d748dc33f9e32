// What a pool's encapsulation adds to every packet that leaves the node: when the network config
// sets no veth MTU, the veth gets the underlay's MTU less this (reference: Calico's MTU table).

import type { IPPool } from '@margay/api';

/** Outer IPv4 header for IPIP; outer IP + UDP + VXLAN + inner Ethernet headers for VXLAN. */
const OVERHEAD = { ipip: 20, vxlan: { 4: 50, 6: 70 } } as const;

/** Bytes of encapsulation per packet of the family; 0 for a pool without one (or no pool). */
export function encapsulationOverhead(pool: IPPool | undefined, family: 4 | 6): number {
  if (pool === undefined) return 0;
  if (pool.spec.vxlanMode !== 'Never') return OVERHEAD.vxlan[family];
  if (pool.spec.ipipMode !== 'Never') return OVERHEAD.ipip;
  return 0;
}
