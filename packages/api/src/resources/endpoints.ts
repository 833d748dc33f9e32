// Host and workload endpoints: the interfaces policy is enforced on.

import { z } from 'zod';
import { intInRange, ipAddress, macAddress, net, oneOf, resourceName, strictObject } from '../schema/fields';
import { type Resource, resourceSchema } from './meta';

/** A named port of an endpoint, which policy rules can refer to by name. */
const endpointPort = strictObject({
  name: z.string().min(1),
  protocol: oneOf(['TCP', 'UDP', 'SCTP']),
  port: intInRange(1, 65535),
  hostPort: intInRange(1, 65535).optional(),
  hostIP: ipAddress().optional(),
});
export type EndpointPort = z.output<typeof endpointPort>;

export const hostEndpointSpec = strictObject({
  node: resourceName,
  /** `*` means every interface of the node. */
  interfaceName: z.string().min(1).optional(),
  expectedIPs: z.array(ipAddress()).optional(),
  profiles: z.array(resourceName).optional(),
  ports: z.array(endpointPort).optional(),
}).superRefine((spec, ctx) => {
  if (spec.interfaceName === undefined && (spec.expectedIPs ?? []).length === 0) {
    ctx.addIssue({ code: 'custom', path: [], message: 'set interfaceName, expectedIPs or both' });
  }
});
export type HostEndpointSpec = z.output<typeof hostEndpointSpec>;
export interface HostEndpoint extends Resource<HostEndpointSpec> {
  kind: 'HostEndpoint';
}
export const hostEndpointSchema = resourceSchema('HostEndpoint', hostEndpointSpec);

export const workloadEndpointSpec = strictObject({
  orchestrator: z.string().min(1).optional(),
  workload: z.string().optional(),
  node: resourceName,
  containerID: z.string().optional(),
  pod: z.string().optional(),
  endpoint: z.string().optional(),
  serviceAccountName: z.string().optional(),
  ipNetworks: z.array(net).default([]),
  ipNATs: z.array(strictObject({ internalIP: ipAddress(), externalIP: ipAddress() })).optional(),
  ipv4Gateway: ipAddress(4).optional(),
  ipv6Gateway: ipAddress(6).optional(),
  profiles: z.array(resourceName).optional(),
  interfaceName: z.string().min(1),
  mac: macAddress.optional(),
  ports: z.array(endpointPort).optional(),
  allowSpoofedSourcePrefixes: z.array(net).optional(),
});
export type WorkloadEndpointSpec = z.output<typeof workloadEndpointSpec>;
export interface WorkloadEndpoint extends Resource<WorkloadEndpointSpec> {
  kind: 'WorkloadEndpoint';
}
export const workloadEndpointSchema = resourceSchema('WorkloadEndpoint', workloadEndpointSpec);
