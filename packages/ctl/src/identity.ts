import { type Kind, type Resource, resourceKey } from '@margay/api';

/** Which resource: enough to find its key, and to name it in messages. */
export interface ResourceRef {
  kind: Kind;
  name: string;
  namespace?: string;
}

export function refOf(resource: Resource): ResourceRef {
  return { kind: resource.kind, name: resource.metadata.name, namespace: resource.metadata.namespace };
}

export function keyOf(ref: ResourceRef): string {
  return resourceKey(ref.kind, ref.name, ref.namespace);
}

/** `IPPool pool-a`, or `NetworkPolicy prod/allow-web` for namespaced kinds. */
export function describeRef(ref: ResourceRef): string {
  return `${ref.kind} ${ref.namespace === undefined ? '' : `${ref.namespace}/`}${ref.name}`;
}

/** One problem for every resource named a second time (`origin`: a file, or the command line). */
export function findDuplicates(entries: { ref: ResourceRef; origin: string }[]): string[] {
  const firstOrigin = new Map<string, string>();
  const problems: string[] = [];
  for (const { ref, origin } of entries) {
    const key = keyOf(ref);
    const first = firstOrigin.get(key);
    if (first === undefined) firstOrigin.set(key, origin);
    else problems.push(`${origin}: ${describeRef(ref)}: given more than once (first in ${first})`);
  }
  return problems;
}
