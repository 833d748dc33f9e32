// The names and numbers of margay's tunnels, as Calico's (with `margay` in the VXLAN name). The
// devices are ours by name: the manager creates, changes and removes exactly these two.

import { createHash } from 'node:crypto';

export const IPIP_DEVICE = 'tunl0';
export const VXLAN_DEVICE = 'vxlan.margay';
export const VXLAN_VNI = 4096;
export const VXLAN_PORT = 4789;
/** Bytes each encapsulation adds to a packet: the device MTU is the underlay's minus this. */
export const IPIP_OVERHEAD = 20;
export const VXLAN_OVERHEAD = 50;

/** IPAM handles of a node's tunnel addresses (Calico's allocateip names). */
export const tunnelHandle = {
  ipip: (node: string): string => `ipip-tunnel-addr-${node}`,
  vxlan: (node: string): string => `vxlan-tunnel-addr-${node}`,
};

/**
 * A node's VTEP MAC when its Node resource names none: 0x66 then the first five bytes of
 * sha1(node name), as Calico derives it. 0x66 is unicast and locally administered, and the same
 * name always gives the same MAC, so a restarted node keeps its neighbours' FDB entries valid.
 */
export function derivedVxlanMac(nodeName: string): string {
  const digest = createHash('sha1').update(nodeName).digest();
  const bytes = [0x66, ...digest.subarray(0, 5)];
  return bytes.map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}
