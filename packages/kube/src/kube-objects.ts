// The parts of Kubernetes objects the sync reads. Informers hand over objects in two shapes: list
// items deserialized by the generated client (camelCase models, `_from` for `from`) and watch
// events as raw JSON. Only fields both shapes share are read here, except where noted.

export interface KubeMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  resourceVersion?: string;
}

export interface KubeObject {
  metadata?: KubeMeta;
}

export interface KubeNamespace extends KubeObject {}

export interface KubeNode extends KubeObject {}

export interface KubePod extends KubeObject {
  spec?: { nodeName?: string; hostNetwork?: boolean; serviceAccountName?: string };
}

export interface KubeNetworkPolicy extends KubeObject {
  spec?: Record<string, unknown>;
}

/** `<namespace>/<name>` or `<name>`: how an object is named in logs. */
export function describeObject(kind: string, obj: KubeObject): string {
  const meta = obj.metadata ?? {};
  const name = meta.namespace ? `${meta.namespace}/${meta.name ?? '?'}` : (meta.name ?? '?');
  return `Kubernetes ${kind} ${name}`;
}

/** The object's name; an object without one cannot be synced. */
export function nameOf(kind: string, obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || name === '')
    throw new Error(`${describeObject(kind, obj)} has no metadata.name`);
  return name;
}

/** The object's namespace; namespaced kinds without one cannot be synced. */
export function namespaceOf(kind: string, obj: KubeObject): string {
  const namespace = obj.metadata?.namespace;
  if (typeof namespace !== 'string' || namespace === '') {
    throw new Error(`${describeObject(kind, obj)} has no metadata.namespace`);
  }
  return namespace;
}
