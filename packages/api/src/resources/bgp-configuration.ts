import { z } from 'zod';
import { asNumber, cidr, duration, intInRange, oneOf, secretKeyRef, strictObject } from '../schema/fields';
import { type Resource, resourceSchema } from './meta';

/** Name of the cluster-wide BGPConfiguration; per-node ones are named `node.<nodename>`. */
export const DEFAULT_CONFIGURATION_NAME = 'default';

export const BGP_DEFAULTS = {
  nodeToNodeMeshEnabled: true,
  asNumber: 64512,
  logSeverityScreen: 'Info',
} as const;

const serviceCidrs = z.array(strictObject({ cidr }));

/** A BGP community: `aa:nn` (standard) or `aa:nn:mm` (large). */
const communityValue = z.string().superRefine((value, ctx) => {
  const parts = value.split(':');
  const max = parts.length === 2 ? 65535 : 4294967295;
  const valid =
    (parts.length === 2 || parts.length === 3) &&
    parts.every((p) => /^\d{1,10}$/.test(p) && Number(p) <= max);
  if (!valid) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(value)} is not a community: use aa:nn or aa:nn:mm`,
    });
  }
});

export const bgpConfigurationSpec = strictObject({
  logSeverityScreen: oneOf(['Debug', 'Info', 'Warning', 'Error', 'Fatal']).optional(),
  nodeToNodeMeshEnabled: z.boolean().optional(),
  asNumber: asNumber.optional(),
  serviceClusterIPs: serviceCidrs.optional(),
  serviceExternalIPs: serviceCidrs.optional(),
  serviceLoadBalancerIPs: serviceCidrs.optional(),
  listenPort: intInRange(1, 65535).optional(),
  communities: z.array(strictObject({ name: z.string().min(1), value: communityValue })).optional(),
  prefixAdvertisements: z.array(strictObject({ cidr, communities: z.array(z.string()) })).optional(),
  nodeMeshPassword: secretKeyRef.optional(),
  nodeMeshMaxRestartTime: duration.optional(),
  bindMode: oneOf(['None', 'NodeIP']).optional(),
  ignoredInterfaces: z.array(z.string().min(1)).optional(),
  programClusterRoutes: oneOf(['Enabled', 'Disabled', 'EnabledIPIPOnly', 'EnabledNoEncapOnly']).optional(),
  ipv4NormalRoutePriority: intInRange(1, 2147483646).optional(),
  ipv6NormalRoutePriority: intInRange(1, 2147483646).optional(),
});

export type BGPConfigurationSpec = z.output<typeof bgpConfigurationSpec>;
export interface BGPConfiguration extends Resource<BGPConfigurationSpec> {
  kind: 'BGPConfiguration';
}

const GLOBAL_ONLY = ['nodeToNodeMeshEnabled', 'asNumber'] as const;

/**
 * Mesh and AS number are cluster-wide settings, so they are only accepted (and defaulted) on the
 * `default` configuration; per-node configurations leave unset what they do not override.
 */
export const bgpConfigurationSchema = resourceSchema('BGPConfiguration', bgpConfigurationSpec)
  .superRefine((resource, ctx) => {
    if (resource.metadata.name === DEFAULT_CONFIGURATION_NAME) return;
    for (const field of GLOBAL_ONLY) {
      if (resource.spec[field] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['spec', field],
          message: `only valid on the BGPConfiguration named "${DEFAULT_CONFIGURATION_NAME}"`,
        });
      }
    }
  })
  .transform((resource) =>
    resource.metadata.name === DEFAULT_CONFIGURATION_NAME
      ? { ...resource, spec: { ...BGP_DEFAULTS, ...resource.spec } }
      : resource,
  );
