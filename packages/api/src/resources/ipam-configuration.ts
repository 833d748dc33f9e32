import { z } from 'zod';
import { intInRange, strictObject } from '../schema/fields';
import { type Resource, resourceSchema } from './meta';

/** IPAM is configured cluster-wide by the one IPAMConfiguration named `default`. */
export const IPAM_CONFIGURATION_NAME = 'default';

export const ipamConfigurationSpec = strictObject({
  /** Only allocate from blocks affine to the node (never borrow another node's addresses). */
  strictAffinity: z.boolean().default(false),
  /** 0 = unlimited. */
  maxBlocksPerHost: intInRange(0, 2147483647).default(0),
  autoAllocateBlocks: z.boolean().default(true),
});
export type IPAMConfigurationSpec = z.output<typeof ipamConfigurationSpec>;
export interface IPAMConfiguration extends Resource<IPAMConfigurationSpec> {
  kind: 'IPAMConfiguration';
}
export const ipamConfigurationSchema = resourceSchema('IPAMConfiguration', ipamConfigurationSpec).superRefine(
  (resource, ctx) => {
    if (resource.metadata.name !== IPAM_CONFIGURATION_NAME) {
      ctx.addIssue({
        code: 'custom',
        path: ['metadata', 'name'],
        message: `must be "${IPAM_CONFIGURATION_NAME}" (IPAM has one cluster-wide configuration)`,
      });
    }
  },
);
