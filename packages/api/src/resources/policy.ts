// Policy rules and the kinds built from them: NetworkPolicy, GlobalNetworkPolicy and Profile.

import { z } from 'zod';
import {
  intInRange,
  labels,
  net,
  oneOf,
  type Protocol,
  port,
  protocol,
  resourceName,
  selector,
  strictObject,
} from '../schema/fields';
import { type Resource, resourceSchema } from './meta';

const icmpFields = strictObject({ type: intInRange(0, 254).optional(), code: intInRange(0, 255).optional() });

const entityRule = strictObject({
  nets: z.array(net).optional(),
  notNets: z.array(net).optional(),
  /** Without namespaceSelector, a selector in a namespaced policy matches only its own namespace. */
  selector: selector.optional(),
  notSelector: selector.optional(),
  /** Selects namespaces by their labels; the rule then matches endpoints in those namespaces. */
  namespaceSelector: selector.optional(),
  ports: z.array(port).optional(),
  notPorts: z.array(port).optional(),
  serviceAccounts: strictObject({
    names: z.array(z.string().min(1)).optional(),
    selector: selector.optional(),
  }).optional(),
});
export type EntityRule = z.output<typeof entityRule>;

const PORT_PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP', 'UDPLite', 6, 17, 132, 136];
const ICMP_PROTOCOL: Partial<Record<Protocol, 4 | 6>> = { ICMP: 4, 1: 4, ICMPv6: 6, 58: 6 };

export const RULE_ACTIONS = ['Allow', 'Deny', 'Log', 'Pass'] as const;

const rule = strictObject({
  action: oneOf(RULE_ACTIONS),
  ipVersion: z
    .literal([4, 6], { error: (issue) => `must be 4 or 6 (got ${JSON.stringify(issue.input)})` })
    .optional(),
  protocol: protocol.optional(),
  notProtocol: protocol.optional(),
  icmp: icmpFields.optional(),
  notICMP: icmpFields.optional(),
  source: entityRule.optional(),
  destination: entityRule.optional(),
  metadata: strictObject({ annotations: z.record(z.string(), z.string()).optional() }).optional(),
}).superRefine((rule, ctx) => {
  const problem = (path: (string | number)[], message: string) =>
    ctx.addIssue({ code: 'custom', path, message });
  for (const side of ['source', 'destination'] as const) {
    for (const field of ['ports', 'notPorts'] as const) {
      const hasPorts = (rule[side]?.[field]?.length ?? 0) > 0;
      if (hasPorts && (rule.protocol === undefined || !PORT_PROTOCOLS.includes(rule.protocol))) {
        problem([side, field], 'ports need protocol TCP, UDP, SCTP or UDPLite');
      }
    }
    for (const field of ['nets', 'notNets'] as const) {
      rule[side]?.[field]?.forEach((text, index) => {
        const version = text.includes(':') ? 6 : 4; // nets are canonical CIDRs by now
        if (rule.ipVersion !== undefined && version !== rule.ipVersion) {
          problem(
            [side, field, index],
            `an IPv${version} network in a rule with ipVersion ${rule.ipVersion}`,
          );
        }
      });
    }
  }
  for (const field of ['icmp', 'notICMP'] as const) {
    const icmp = rule[field];
    if (icmp === undefined) continue;
    const icmpVersion = rule.protocol === undefined ? undefined : ICMP_PROTOCOL[rule.protocol];
    if (icmpVersion === undefined) problem([field], 'needs protocol ICMP or ICMPv6');
    else if (rule.ipVersion !== undefined && rule.ipVersion !== icmpVersion) {
      problem([field], `protocol ${rule.protocol} does not match ipVersion ${rule.ipVersion}`);
    }
    if (icmp.code !== undefined && icmp.type === undefined) problem([field, 'code'], 'a code needs a type');
  }
});
export type Rule = z.output<typeof rule>;

export const POLICY_TYPES = ['Ingress', 'Egress'] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

/** The tier every policy belongs to unless it names another. */
export const DEFAULT_TIER = 'default';

const policyShape = {
  tier: resourceName.default(DEFAULT_TIER),
  /** Lower orders apply first; unset means last. */
  order: z.number().optional(),
  selector: selector.default('all()'),
  types: z.array(oneOf(POLICY_TYPES)).optional(),
  ingress: z.array(rule).default([]),
  egress: z.array(rule).default([]),
  serviceAccountSelector: selector.optional(),
};

interface PolicyRules {
  types?: PolicyType[] | undefined;
  ingress: Rule[];
  egress: Rule[];
}

function checkTypes(spec: PolicyRules, ctx: z.RefinementCtx): void {
  if (spec.types === undefined || spec.types.length === 0) return; // unset: inferred by withTypes
  if (new Set(spec.types).size !== spec.types.length) {
    ctx.addIssue({ code: 'custom', path: ['types'], message: 'lists a type more than once' });
  }
  for (const [type, field] of [
    ['Ingress', 'ingress'],
    ['Egress', 'egress'],
  ] as const) {
    if (spec[field].length > 0 && !spec.types.includes(type)) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `has rules but types does not include ${type}, so they would never apply`,
      });
    }
  }
}

/** Calico's inference when types is unset or empty: Ingress unless the policy has only egress rules. */
function withTypes<Spec extends PolicyRules>(spec: Spec): Spec & { types: PolicyType[] } {
  if (spec.types !== undefined && spec.types.length > 0) return { ...spec, types: spec.types };
  const types: PolicyType[] = [];
  if (spec.ingress.length > 0 || spec.egress.length === 0) types.push('Ingress');
  if (spec.egress.length > 0) types.push('Egress');
  return { ...spec, types };
}

export const networkPolicySpec = strictObject(policyShape).superRefine(checkTypes).transform(withTypes);
export type NetworkPolicySpec = z.output<typeof networkPolicySpec>;
export interface NetworkPolicy extends Resource<NetworkPolicySpec> {
  kind: 'NetworkPolicy';
}
export const networkPolicySchema = resourceSchema('NetworkPolicy', networkPolicySpec);

export const globalNetworkPolicySpec = strictObject({
  ...policyShape,
  namespaceSelector: selector.optional(),
  doNotTrack: z.boolean().default(false),
  preDNAT: z.boolean().default(false),
  applyOnForward: z.boolean().default(false),
})
  .superRefine(checkTypes)
  .superRefine((spec, ctx) => {
    const problem = (field: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [field], message });
    if (spec.doNotTrack && spec.preDNAT) problem('preDNAT', 'doNotTrack and preDNAT cannot both be true');
    if ((spec.doNotTrack || spec.preDNAT) && !spec.applyOnForward) {
      problem('applyOnForward', 'must be true for doNotTrack and preDNAT policies');
    }
    if (spec.preDNAT && (spec.egress.length > 0 || spec.types?.includes('Egress'))) {
      problem('egress', 'preDNAT policies apply to ingress only');
    }
  })
  .transform(withTypes);
export type GlobalNetworkPolicySpec = z.output<typeof globalNetworkPolicySpec>;
export interface GlobalNetworkPolicy extends Resource<GlobalNetworkPolicySpec> {
  kind: 'GlobalNetworkPolicy';
}
export const globalNetworkPolicySchema = resourceSchema('GlobalNetworkPolicy', globalNetworkPolicySpec);

export const profileSpec = strictObject({
  ingress: z.array(rule).default([]),
  egress: z.array(rule).default([]),
  /** Labels every endpoint using the profile inherits. */
  labelsToApply: labels.optional(),
});
export type ProfileSpec = z.output<typeof profileSpec>;
export interface Profile extends Resource<ProfileSpec> {
  kind: 'Profile';
}
export const profileSchema = resourceSchema('Profile', profileSpec);
