// Test helpers for the renderer: Kubernetes and Calico policy documents through @margay/api's
// validation into the model, chains as readable lines, and chains as iptables-restore input.

import { type NetworkPolicy, type Rule as PolicyRule, validateResource } from '@margay/api';
import type { Chain, Rule } from '@margay/dataplane';
import type { PolicyModel } from '../model';
import type { Hook } from './static';

/** A `networking.k8s.io/v1` NetworkPolicy spec in namespace `ns`, converted and validated. */
export function k8sPolicyModel(spec: unknown, ns = 'ns1', name = 'np'): PolicyModel {
  const policy = validateResource({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace: ns },
    spec,
  }) as NetworkPolicy;
  const namespace = policy.metadata.namespace ?? 'default';
  return {
    id: `${namespace}/${policy.metadata.name}`,
    namespace,
    ingress: policy.spec.ingress,
    egress: policy.spec.egress,
  };
}

/** Calico rules as written in a document, validated (so ports, nets, protocols are canonical). */
export function calicoRules(
  ingress: unknown[],
  egress: unknown[] = [],
): { ingress: PolicyRule[]; egress: PolicyRule[] } {
  const policy = validateResource({
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: { name: 'p' },
    spec: { ingress, egress, types: ['Ingress', 'Egress'] },
  }) as unknown as { spec: { ingress: PolicyRule[]; egress: PolicyRule[] } };
  return { ingress: policy.spec.ingress, egress: policy.spec.egress };
}

/** One line per rule: `match action` (what the table would write after `-A chain`). */
export function lines(chain: Chain | undefined): string[] {
  if (chain === undefined) throw new Error('no such chain');
  return chain.rules.map(ruleText);
}

export function ruleText(rule: Rule): string {
  return rule.match === '' ? rule.action : `${rule.match} ${rule.action}`;
}

export function chainNamed(chains: readonly Chain[], name: string): Chain {
  const chain = chains.find((c) => c.name === name);
  if (chain === undefined) throw new Error(`no chain ${name} among ${chains.map((c) => c.name).join(', ')}`);
  return chain;
}

/** iptables-restore input for one table: our chains declared, then their rules, then the hooks. */
export function restoreScript(table: string, chains: readonly Chain[], hooks: readonly Hook[] = []): string {
  const out = [`*${table}`, ...chains.map((chain) => `:${chain.name} - [0:0]`)];
  for (const chain of chains) {
    for (const rule of chain.rules) out.push(appendLine(chain.name, rule));
  }
  for (const hook of hooks) for (const rule of hook.rules) out.push(appendLine(hook.kernelChain, rule));
  out.push('COMMIT', '');
  return out.join('\n');
}

function appendLine(chain: string, rule: Rule): string {
  const comment = rule.comment === undefined ? '' : ` -m comment --comment "${rule.comment}"`;
  const match = rule.match === '' ? '' : ` ${rule.match}`;
  return `-A ${chain}${match}${comment} ${rule.action}`;
}
