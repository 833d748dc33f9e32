import { z } from 'zod';
import { cidr, duration, intInRange, oneOf, strictObject } from '../schema/fields';
import { type Resource, resourceSchema } from './meta';

/** A failsafe port: traffic to/from it on host endpoints is always allowed, whatever the policy. */
const protoPort = strictObject({
  protocol: z
    .string()
    .transform((p) => p.toLowerCase())
    .pipe(oneOf(['tcp', 'udp', 'sctp'])),
  port: intInRange(1, 65535),
  net: cidr.optional(),
});
export type ProtoPort = z.output<typeof protoPort>;

const enabledOrDisabled = oneOf(['Enabled', 'Disabled']);

/**
 * Every field is optional: the `default` configuration is overlaid by `node.<nodename>`, and
 * what neither sets falls back to FELIX_DEFAULTS. So defaults are not filled in when parsing.
 */
export const felixConfigurationSpec = strictObject({
  logSeverityScreen: oneOf(['Debug', 'Info', 'Warning', 'Error', 'Fatal']).optional(),
  iptablesRefreshInterval: duration.optional(),
  iptablesPostWriteCheckInterval: duration.optional(),
  routeRefreshInterval: duration.optional(),
  ipsetsRefreshInterval: duration.optional(),
  maxIpsetSize: intInRange(1, 2 ** 31 - 1).optional(),
  iptablesMarkMask: intInRange(1, 2 ** 32 - 1).optional(),
  interfacePrefix: z.string().min(1).optional(),
  chainInsertMode: oneOf(['Insert', 'Append']).optional(),
  defaultEndpointToHostAction: oneOf(['Drop', 'Accept', 'Return']).optional(),
  iptablesFilterAllowAction: oneOf(['Accept', 'Return']).optional(),
  ipipEnabled: z.boolean().optional(),
  ipipMTU: intInRange(0, 65535).optional(),
  vxlanEnabled: z.boolean().optional(),
  vxlanMTU: intInRange(0, 65535).optional(),
  vxlanPort: intInRange(1, 65535).optional(),
  vxlanVNI: intInRange(1, 16777215).optional(),
  deviceRouteProtocol: intInRange(1, 255).optional(),
  removeExternalRoutes: z.boolean().optional(),
  programClusterRoutes: oneOf(['Enabled', 'Disabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly']).optional(),
  routeSource: oneOf(['CalicoIPAM', 'WorkloadIPs']).optional(),
  failsafeInboundHostPorts: z.array(protoPort).optional(),
  failsafeOutboundHostPorts: z.array(protoPort).optional(),
  reportingInterval: duration.optional(),
  reportingTTL: duration.optional(),
  healthEnabled: z.boolean().optional(),
  healthHost: z.string().min(1).optional(),
  healthPort: intInRange(1, 65535).optional(),
  prometheusMetricsEnabled: z.boolean().optional(),
  prometheusMetricsPort: intInRange(1, 65535).optional(),
  ipv4NormalRoutePriority: intInRange(1, 2147483646).optional(),
  // Written by Calico's installers into the default object; accepted so their YAML applies as is.
  bpfEnabled: z
    .literal(false, { error: 'margay has no eBPF dataplane; bpfEnabled must be false' })
    .optional(),
  bpfLogLevel: z.string().optional(),
  bpfConnectTimeLoadBalancing: z.string().optional(),
  bpfHostNetworkedNATWithoutCTLB: enabledOrDisabled.optional(),
  floatingIPs: enabledOrDisabled.optional(),
});

export type FelixConfigurationSpec = z.output<typeof felixConfigurationSpec>;
export interface FelixConfiguration extends Resource<FelixConfigurationSpec> {
  kind: 'FelixConfiguration';
}
export const felixConfigurationSchema = resourceSchema('FelixConfiguration', felixConfigurationSpec);

const tcp = (port: number): ProtoPort => ({ protocol: 'tcp', port });
const udp = (port: number): ProtoPort => ({ protocol: 'udp', port });

/** What Felix uses for a field neither the `default` nor the per-node configuration sets. */
export const FELIX_DEFAULTS = {
  logSeverityScreen: 'Info',
  iptablesRefreshInterval: '180s',
  iptablesPostWriteCheckInterval: '5s',
  routeRefreshInterval: '90s',
  ipsetsRefreshInterval: '90s',
  maxIpsetSize: 1048576,
  iptablesMarkMask: 0xffff0000,
  interfacePrefix: 'mg', // margay's workload veths are mg<hash> (Calico's are cali<hash>)
  chainInsertMode: 'Insert',
  defaultEndpointToHostAction: 'Drop',
  iptablesFilterAllowAction: 'Accept',
  ipipMTU: 0,
  vxlanMTU: 0,
  vxlanPort: 4789,
  vxlanVNI: 4096,
  deviceRouteProtocol: 3,
  removeExternalRoutes: true,
  programClusterRoutes: 'EnabledIPIPOnly',
  routeSource: 'CalicoIPAM',
  failsafeInboundHostPorts: [
    tcp(22),
    udp(68),
    tcp(179),
    tcp(2379),
    tcp(2380),
    tcp(5473),
    tcp(6443),
    tcp(6666),
    tcp(6667),
  ],
  failsafeOutboundHostPorts: [
    udp(53),
    udp(67),
    tcp(179),
    tcp(2379),
    tcp(2380),
    tcp(5473),
    tcp(6443),
    tcp(6666),
    tcp(6667),
  ],
  reportingInterval: '30s',
  reportingTTL: '90s',
  healthEnabled: false,
  healthHost: 'localhost',
  healthPort: 9099,
  prometheusMetricsEnabled: false,
  prometheusMetricsPort: 9091,
  ipv4NormalRoutePriority: 1024,
} satisfies FelixConfigurationSpec;
