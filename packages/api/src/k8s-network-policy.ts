// Conversion of Kubernetes `networking.k8s.io/v1` NetworkPolicy into margay's NetworkPolicy,
// following Calico's conversion (name `knp.default.<name>`, one Allow rule per peer per protocol).

import { z } from 'zod';
import { labelKeyProblem } from './names';
import { cidrContains, mustParseCidr } from './net';
import { API_VERSION, DEFAULT_NAMESPACE, objectMeta } from './resources/meta';
import { type EntityRule, networkPolicySchema, type PolicyType, type Rule } from './resources/policy';
import { checkedString, cidr, intInRange, labels, oneOf, port, strictObject } from './schema/fields';
import type { Selector } from './selector/ast';
import { selectorToString } from './selector/print';

export const K8S_NETWORKING_API_VERSION = 'networking.k8s.io/v1';
/** Prefix Calico gives converted Kubernetes policies (they live in the default tier). */
export const K8S_POLICY_NAME_PREFIX = 'knp.default.';
/** Calico's order for converted Kubernetes policies. */
export const K8S_POLICY_ORDER = 1000;

const labelSelectorRequirement = strictObject({
  key: checkedString(labelKeyProblem),
  operator: oneOf(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
}).superRefine((requirement, ctx) => {
  const count = requirement.values?.length ?? 0;
  const needsValues = requirement.operator === 'In' || requirement.operator === 'NotIn';
  if (needsValues && count === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['values'],
      message: `${requirement.operator} needs at least one value`,
    });
  }
  if (!needsValues && count > 0) {
    ctx.addIssue({ code: 'custom', path: ['values'], message: `${requirement.operator} takes no values` });
  }
});

const labelSelector = strictObject({
  matchLabels: labels.optional(),
  matchExpressions: z.array(labelSelectorRequirement).optional(),
});
type LabelSelector = z.output<typeof labelSelector>;

const ipBlock = strictObject({ cidr, except: z.array(cidr).optional() }).superRefine((block, ctx) => {
  const outer = mustParseCidr(block.cidr);
  block.except?.forEach((text, index) => {
    if (text === block.cidr || !cidrContains(outer, mustParseCidr(text))) {
      ctx.addIssue({
        code: 'custom',
        path: ['except', index],
        message: `must be a strict subset of ${block.cidr}`,
      });
    }
  });
});

const peer = strictObject({
  podSelector: labelSelector.optional(),
  namespaceSelector: labelSelector.optional(),
  ipBlock: ipBlock.optional(),
}).superRefine((p, ctx) => {
  const selectors = p.podSelector !== undefined || p.namespaceSelector !== undefined;
  if (p.ipBlock !== undefined && selectors) {
    ctx.addIssue({ code: 'custom', path: ['ipBlock'], message: 'ipBlock cannot be combined with selectors' });
  } else if (p.ipBlock === undefined && !selectors) {
    ctx.addIssue({ code: 'custom', path: [], message: 'set podSelector, namespaceSelector or ipBlock' });
  }
});
type Peer = z.output<typeof peer>;

const PORT_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;
type PortProtocol = (typeof PORT_PROTOCOLS)[number];

const networkPolicyPort = strictObject({
  protocol: oneOf(PORT_PROTOCOLS).default('TCP'),
  port: port.optional(),
  endPort: intInRange(1, 65535).optional(),
}).superRefine((p, ctx) => {
  if (typeof p.port === 'string' && p.port.includes(':')) {
    ctx.addIssue({
      code: 'custom',
      path: ['port'],
      message: 'must be a number or a port name; use endPort for a range',
    });
  }
  if (p.endPort !== undefined && typeof p.port !== 'number') {
    ctx.addIssue({ code: 'custom', path: ['endPort'], message: 'is only allowed with a numeric port' });
  } else if (p.endPort !== undefined && typeof p.port === 'number' && p.endPort < p.port) {
    ctx.addIssue({
      code: 'custom',
      path: ['endPort'],
      message: `must be >= port ${p.port} (got ${p.endPort})`,
    });
  }
});
type NetworkPolicyPort = z.output<typeof networkPolicyPort>;

const ports = z.array(networkPolicyPort).default([]);

const spec = strictObject({
  podSelector: labelSelector.default({}),
  policyTypes: z.array(oneOf(['Ingress', 'Egress'])).optional(),
  ingress: z.array(strictObject({ from: z.array(peer).default([]), ports })).default([]),
  egress: z.array(strictObject({ to: z.array(peer).default([]), ports })).default([]),
});

/** A Kubernetes NetworkPolicy document, converted to margay's NetworkPolicy and validated as one. */
export const k8sNetworkPolicySchema = strictObject({
  apiVersion: z.literal(K8S_NETWORKING_API_VERSION),
  kind: z.literal('NetworkPolicy'),
  metadata: objectMeta,
  spec: z.preprocess((value) => value ?? {}, spec),
})
  .transform(({ metadata, spec }): z.input<typeof networkPolicySchema> => {
    const inferred: PolicyType[] = spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
    const types = spec.policyTypes !== undefined && spec.policyTypes.length > 0 ? spec.policyTypes : inferred;
    // Rules of a type the policy does not list are ignored by Kubernetes, so they are dropped.
    const ingress = types.includes('Ingress')
      ? spec.ingress.flatMap((r) => convertRule(r.from, r.ports, 'source'))
      : [];
    const egress = types.includes('Egress')
      ? spec.egress.flatMap((r) => convertRule(r.to, r.ports, 'destination'))
      : [];
    return {
      apiVersion: API_VERSION,
      kind: 'NetworkPolicy',
      metadata: {
        ...metadata,
        name: `${K8S_POLICY_NAME_PREFIX}${metadata.name}`,
        namespace: metadata.namespace ?? DEFAULT_NAMESPACE,
      },
      spec: {
        order: K8S_POLICY_ORDER,
        selector: selectorText(spec.podSelector),
        types,
        ingress,
        egress,
      },
    };
  })
  .pipe(networkPolicySchema);

/**
 * One Kubernetes rule allows traffic from any of its peers on any of its ports. Calico rules have
 * one peer and one protocol each, so this yields one Allow rule per peer per protocol. The peer
 * goes on the remote side (`source` for ingress, `destination` for egress); ports are always the
 * destination's.
 */
function convertRule(
  peers: Peer[],
  k8sPorts: NetworkPolicyPort[],
  peerSide: 'source' | 'destination',
): Rule[] {
  const entities = peers.length > 0 ? peers.map(toEntityRule) : [undefined];
  const protocols = k8sPorts.length > 0 ? [...portsByProtocol(k8sPorts)] : [undefined];
  return entities.flatMap((entity) =>
    protocols.map((group): Rule => {
      const rule: Rule = { action: 'Allow' };
      if (entity !== undefined) rule[peerSide] = entity;
      if (group !== undefined) {
        const [protocol, groupPorts] = group;
        rule.protocol = protocol;
        if (groupPorts !== undefined) rule.destination = { ...rule.destination, ports: groupPorts };
      }
      return rule;
    }),
  );
}

/** Ports grouped by protocol; `undefined` means every port of that protocol. */
function portsByProtocol(k8sPorts: NetworkPolicyPort[]): Map<PortProtocol, (number | string)[] | undefined> {
  const groups = new Map<PortProtocol, (number | string)[] | undefined>();
  for (const { protocol, port, endPort } of k8sPorts) {
    if (groups.has(protocol) && groups.get(protocol) === undefined) continue; // already every port
    const text = endPort === undefined ? port : `${port}:${endPort}`;
    groups.set(protocol, text === undefined ? undefined : [...(groups.get(protocol) ?? []), text]);
  }
  return groups;
}

/**
 * podSelector alone selects pods of the policy's own namespace (a selector in a namespaced policy
 * never leaves its namespace); namespaceSelector selects namespaces by their labels; both in one
 * peer must both hold (AND). Separate peers become separate rules (OR).
 */
function toEntityRule(p: Peer): EntityRule {
  if (p.ipBlock !== undefined) {
    const { cidr: net, except = [] } = p.ipBlock;
    return except.length > 0 ? { nets: [net], notNets: except } : { nets: [net] };
  }
  const entity: EntityRule = {};
  if (p.podSelector !== undefined) entity.selector = selectorText(p.podSelector);
  if (p.namespaceSelector !== undefined) entity.namespaceSelector = selectorText(p.namespaceSelector);
  return entity;
}

const REQUIREMENT_SELECTORS: Record<
  z.output<typeof labelSelectorRequirement>['operator'],
  (label: string, values: string[]) => Selector
> = {
  In: (label, values) => ({ type: 'in', label, values }),
  NotIn: (label, values) => ({ type: 'notIn', label, values }),
  Exists: (label) => ({ type: 'has', label }),
  DoesNotExist: (label) => ({ type: 'not', operand: { type: 'has', label } }),
};

function selectorText(labelSelector: LabelSelector): string {
  return selectorToString(toSelector(labelSelector));
}

/** matchLabels and matchExpressions, ANDed; an empty label selector selects everything. */
function toSelector({ matchLabels = {}, matchExpressions = [] }: LabelSelector): Selector {
  const terms: Selector[] = [
    ...Object.entries(matchLabels).map(([label, value]): Selector => ({ type: 'equals', label, value })),
    ...matchExpressions.map(({ key, operator, values = [] }) => REQUIREMENT_SELECTORS[operator](key, values)),
  ];
  const [first, ...rest] = terms;
  return first === undefined
    ? { type: 'all' }
    : rest.reduce((left, right) => ({ type: 'and', left, right }), first);
}
