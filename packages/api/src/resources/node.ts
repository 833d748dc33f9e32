import { z } from 'zod';
import { asNumber, interfaceAddress, ipAddress, macAddress, strictObject } from '../schema/fields';
import { type Resource, resourceSchema } from './meta';

export const nodeSpec = strictObject({
  bgp: strictObject({
    /** CIDR form: the prefix length is the node's subnet, used for CrossSubnet decisions. */
    ipv4Address: interfaceAddress(4).optional(),
    ipv6Address: interfaceAddress(6).optional(),
    asNumber: asNumber.optional(),
    ipv4IPIPTunnelAddr: ipAddress(4).optional(),
    routeReflectorClusterID: ipAddress(4).optional(),
  }).optional(),
  ipv4VXLANTunnelAddr: ipAddress(4).optional(),
  ipv6VXLANTunnelAddr: ipAddress(6).optional(),
  vxlanTunnelMACAddr: macAddress.optional(),
  vxlanTunnelMACAddrV6: macAddress.optional(),
  addresses: z.array(strictObject({ address: z.string().min(1), type: z.string().optional() })).optional(),
  orchRefs: z
    .array(strictObject({ nodeName: z.string().optional(), orchestrator: z.string().min(1) }))
    .optional(),
  wireguard: strictObject({
    interfaceIPv4Address: ipAddress(4).optional(),
    interfaceIPv6Address: ipAddress(6).optional(),
  }).optional(),
});

export type NodeSpec = z.output<typeof nodeSpec>;
export interface Node extends Resource<NodeSpec> {
  kind: 'Node';
}
export const nodeSchema = resourceSchema('Node', nodeSpec);
