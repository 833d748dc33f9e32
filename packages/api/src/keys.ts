// etcd key layout: /margay/resources/v1/<plural>/[<namespace>/]<name>

import { type Kind, kindInfo } from './kinds';
import { dnsLabelProblem, dnsSubdomainProblem } from './names';
import { DEFAULT_NAMESPACE } from './resources/meta';

export const RESOURCE_KEY_ROOT = '/margay/resources/v1/';

/** Key of one resource. Namespaced kinds default to namespace `default`. */
export function resourceKey(kind: Kind, name: string, namespace?: string): string {
  const problem = dnsSubdomainProblem(name);
  if (problem !== undefined) throw new Error(`${kind} name: ${problem}`);
  return `${resourcePrefix(kind, namespace ?? (kindInfo(kind).namespaced ? DEFAULT_NAMESPACE : undefined))}${name}`;
}

/** Prefix of all resources of a kind, or of one namespace of a namespaced kind. Ends with `/`. */
export function resourcePrefix(kind: Kind, namespace?: string): string {
  const { plural, namespaced } = kindInfo(kind);
  if (namespace === undefined) return `${RESOURCE_KEY_ROOT}${plural}/`;
  if (!namespaced) throw new Error(`${kind} is cluster-scoped and takes no namespace (got "${namespace}")`);
  const problem = dnsLabelProblem(namespace);
  if (problem !== undefined) throw new Error(`namespace: ${problem}`);
  return `${RESOURCE_KEY_ROOT}${plural}/${namespace}/`;
}

/** Status reports: each node's agent (under a lease) and its confd, outside the resource tree. */
export const STATUS_KEY_ROOT = '/margay/status/v1/';
export const statusKeys = {
  node: (nodeName: string): string => `${STATUS_KEY_ROOT}nodes/${nodeName}`,
  confd: (nodeName: string): string => `${STATUS_KEY_ROOT}confd/${nodeName}`,
};
