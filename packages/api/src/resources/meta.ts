// The envelope every resource shares: apiVersion, kind, metadata, spec.

import { z } from 'zod';
import { type Kind, kindInfo } from '../kinds';
import { annotations, labels, namespaceName, oneOf, resourceName, strictObject } from '../schema/fields';

export const API_VERSION = 'margay.io/v1';
export const CALICO_API_VERSION = 'projectcalico.org/v3';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  creationTimestamp?: string;
  resourceVersion?: string;
}

export interface Resource<S = unknown> {
  apiVersion: string;
  kind: Kind;
  metadata: ObjectMeta;
  spec: S;
}

export const DEFAULT_NAMESPACE = 'default';

export const objectMeta = strictObject({
  name: resourceName,
  namespace: namespaceName.optional(),
  labels: labels.optional(),
  annotations: annotations.optional(),
  uid: z.string().optional(),
  creationTimestamp: z.string().optional(),
  resourceVersion: z.string().optional(),
});

/**
 * The schema of a whole resource of one kind. Both API groups are accepted and the output carries
 * margay's; a missing spec counts as `{}` (so its defaults apply); namespaces follow the kind's scope.
 */
export function resourceSchema<K extends Kind, Spec extends z.ZodType>(kind: K, spec: Spec) {
  const { namespaced } = kindInfo(kind);
  return strictObject({
    apiVersion: oneOf([API_VERSION, CALICO_API_VERSION]).transform((): string => API_VERSION),
    kind: z.literal(kind),
    metadata: objectMeta,
    spec: z.preprocess((value) => value ?? {}, spec),
  })
    .superRefine((resource, ctx) => {
      if (!namespaced && resource.metadata.namespace !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['metadata', 'namespace'],
          message: `${kind} is cluster-scoped and takes no namespace`,
        });
      }
    })
    .transform((resource) =>
      namespaced && resource.metadata.namespace === undefined
        ? { ...resource, metadata: { ...resource.metadata, namespace: DEFAULT_NAMESPACE } }
        : resource,
    );
}
