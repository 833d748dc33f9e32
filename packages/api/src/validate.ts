// Validation of one decoded document (any kind, either API group, or a Kubernetes NetworkPolicy)
// into a resource with defaults applied, with errors that name the field and what is allowed.

import type { z } from 'zod';
import { type DocumentIssue, ResourceValidationError } from './errors';
import { K8S_NETWORKING_API_VERSION, k8sNetworkPolicySchema } from './k8s-network-policy';
import type { Kind } from './kinds';
import { bgpConfigurationSchema } from './resources/bgp-configuration';
import { bgpPeerSchema } from './resources/bgp-peer';
import { hostEndpointSchema, workloadEndpointSchema } from './resources/endpoints';
import { felixConfigurationSchema } from './resources/felix-configuration';
import { ipamConfigurationSchema } from './resources/ipam-configuration';
import { ipPoolSchema } from './resources/ippool';
import type { Resource } from './resources/meta';
import { nodeSchema } from './resources/node';
import { globalNetworkPolicySchema, networkPolicySchema, profileSchema } from './resources/policy';

/** Every kind's schema: a Record over Kind, so a new kind does not compile until it is listed. */
export const RESOURCE_SCHEMAS: Record<Kind, z.ZodType<Resource>> = {
  IPPool: ipPoolSchema,
  BGPConfiguration: bgpConfigurationSchema,
  BGPPeer: bgpPeerSchema,
  Node: nodeSchema,
  FelixConfiguration: felixConfigurationSchema,
  NetworkPolicy: networkPolicySchema,
  GlobalNetworkPolicy: globalNetworkPolicySchema,
  HostEndpoint: hostEndpointSchema,
  WorkloadEndpoint: workloadEndpointSchema,
  Profile: profileSchema,
  IPAMConfiguration: ipamConfigurationSchema,
};

/** Validate one already-decoded object; throws ResourceValidationError listing every problem. */
export function validateResource(obj: unknown, source = '<input>', document = 1): Resource {
  const result = checkDocument(obj, { source, document });
  if ('issues' in result) throw new ResourceValidationError(result.issues);
  return result.resource;
}

export interface DocumentLocation {
  source: string;
  document: number;
  /** Where the object sits inside the document, e.g. `items[2]` of a List; '' for the document. */
  path?: string;
}

export function checkDocument(
  obj: unknown,
  location: DocumentLocation,
): { resource: Resource } | { issues: DocumentIssue[] } {
  const record = isRecord(obj) ? obj : {};
  const context = {
    source: location.source,
    document: location.document,
    ...(typeof record['kind'] === 'string' ? { kind: record['kind'] } : {}),
    ...(isRecord(record['metadata']) && typeof record['metadata']['name'] === 'string'
      ? { name: record['metadata']['name'] }
      : {}),
  };
  const issue = (path: PropertyKey[], message: string): DocumentIssue => ({
    ...context,
    path: joinPath(location.path ?? '', path),
    message,
  });
  if (!isRecord(obj)) {
    return {
      issues: [
        issue([], `expected a mapping with apiVersion, kind, metadata and spec (got ${describe(obj)})`),
      ],
    };
  }
  const schema = schemaFor(obj);
  if (schema === undefined) {
    const known = Object.keys(RESOURCE_SCHEMAS).join(', ');
    return { issues: [issue(['kind'], `must be one of ${known} (got ${describe(obj['kind'])})`)] };
  }
  const result = schema.safeParse(obj, { error: friendlyMessage, reportInput: true });
  if (result.success) return { resource: result.data };
  return { issues: result.error.issues.map((i) => issue(i.path, i.message)) };
}

function schemaFor(obj: Record<string, unknown>): z.ZodType<Resource> | undefined {
  if (obj['apiVersion'] === K8S_NETWORKING_API_VERSION && obj['kind'] === 'NetworkPolicy') {
    return k8sNetworkPolicySchema;
  }
  const kind = obj['kind'];
  return typeof kind === 'string' && Object.hasOwn(RESOURCE_SCHEMAS, kind)
    ? RESOURCE_SCHEMAS[kind as Kind]
    : undefined;
}

/** Messages for zod's built-in checks; schema-specific messages take precedence over these. */
function friendlyMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.code === 'invalid_type') {
    return issue.input === undefined
      ? 'required'
      : `expected ${EXPECTED[issue.expected] ?? issue.expected} (got ${describe(issue.input)})`;
  }
  if (issue.code === 'too_small' && issue.origin === 'string' && issue.minimum === 1)
    return 'must not be empty';
  return undefined;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping',
  record: 'a mapping',
  array: 'a list',
};

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `spec.ingress[0].destination.ports[1]`; keys that are not identifiers are quoted: `labels["a/b"]`. */
export function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let text = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(String(segment)))
      text += text === '' ? String(segment) : `.${String(segment)}`;
    else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text;
}
