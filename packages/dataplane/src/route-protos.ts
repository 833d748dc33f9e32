// rtnetlink protocol numbers margay's route writers tag their routes with. Each writer reconciles
// only the routes of its own number, deleting any it did not set, so these must be used by nothing
// else on a node: none is named in iproute2's rt_protos or FRR's rt_protos.d (186–197), and none is
// BIRD's 12 or Calico felix's 80 (nodes migrating from Calico may still hold those).
export const ROUTE_PROTO = {
  /** margay-bgpd: learned BGP routes. */
  bgp: 77,
  /** felix: workload /32s and blackholes for local blocks. */
  felix: 78,
  /** tunnel manager: IPIP and VXLAN routes to remote blocks. */
  tunnel: 79,
} as const;
