import { z } from 'zod';
import { type Cidr, cidrsOverlap, formatCidr, type IpVersion, mustParseCidr } from '../net';
import { cidr, oneOf, selector, strictObject } from '../schema/fields';
import { type Resource, resourceSchema } from './meta';

export const ENCAPSULATION_MODES = ['Never', 'Always', 'CrossSubnet'] as const;
export type EncapsulationMode = (typeof ENCAPSULATION_MODES)[number];

const BLOCK_SIZE: Record<IpVersion, { default: number; min: number; max: number }> = {
  4: { default: 26, min: 20, max: 32 },
  6: { default: 122, min: 116, max: 128 },
};

// Pools must not overlap link-local space: those addresses are reserved for the host side of links.
const LINK_LOCAL: Record<IpVersion, Cidr> = {
  4: mustParseCidr('169.254.0.0/16'),
  6: mustParseCidr('fe80::/10'),
};

export const ipPoolSpec = strictObject({
  cidr,
  blockSize: z.number().optional(),
  ipipMode: oneOf(ENCAPSULATION_MODES).default('Never'),
  vxlanMode: oneOf(ENCAPSULATION_MODES).default('Never'),
  natOutgoing: z.boolean().default(false),
  disabled: z.boolean().default(false),
  disableBGPExport: z.boolean().default(false),
  nodeSelector: selector.default('all()'),
  namespaceSelector: selector.optional(),
  allowedUses: z.array(oneOf(['Workload', 'Tunnel', 'LoadBalancer'])).default(['Workload', 'Tunnel']),
  assignmentMode: oneOf(['Automatic', 'Manual']).default('Automatic'),
})
  .superRefine((spec, ctx) => {
    const pool = mustParseCidr(spec.cidr); // object checks run only once every field is valid
    const limits = BLOCK_SIZE[pool.version];
    const blockSize = spec.blockSize ?? limits.default;
    if (!Number.isInteger(blockSize) || blockSize < limits.min || blockSize > limits.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['blockSize'],
        message: `must be an integer from ${limits.min} to ${limits.max} for an IPv${pool.version} pool (got ${blockSize})`,
      });
    } else if (blockSize < pool.prefixLength) {
      ctx.addIssue({
        code: 'custom',
        path: ['blockSize'],
        message: `a /${blockSize} block is larger than the /${pool.prefixLength} pool; use ${pool.prefixLength} or more`,
      });
    }
    if (spec.ipipMode !== 'Never' && spec.vxlanMode !== 'Never') {
      ctx.addIssue({
        code: 'custom',
        path: ['vxlanMode'],
        message: 'a pool uses one encapsulation: ipipMode and vxlanMode cannot both be enabled',
      });
    }
    if (spec.ipipMode !== 'Never' && pool.version === 6) {
      ctx.addIssue({
        code: 'custom',
        path: ['ipipMode'],
        message: 'IPIP is IPv4 only; use Never for an IPv6 pool',
      });
    }
    const linkLocal = LINK_LOCAL[pool.version];
    if (cidrsOverlap(pool, linkLocal)) {
      ctx.addIssue({
        code: 'custom',
        path: ['cidr'],
        message: `must not overlap the link-local range ${formatCidr(linkLocal)}`,
      });
    }
  })
  .transform((spec) => ({
    ...spec,
    blockSize: spec.blockSize ?? BLOCK_SIZE[mustParseCidr(spec.cidr).version].default,
  }));

export type IPPoolSpec = z.output<typeof ipPoolSpec>;
export interface IPPool extends Resource<IPPoolSpec> {
  kind: 'IPPool';
}
export const ipPoolSchema = resourceSchema('IPPool', ipPoolSpec);
