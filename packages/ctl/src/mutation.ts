import type { Resource } from '@margay/api';
import { ConflictError, type Datastore, type KeyValue, type TxnOp } from '@margay/datastore';
import { CommandError } from './errors';
import { describeRef, keyOf, type ResourceRef, refOf } from './identity';
import { storedResource, storedValue } from './stored';

export type WriteVerb = 'create' | 'replace' | 'apply';
type Verb = WriteVerb | 'delete';

/** etcd's default --max-txn-ops: a larger transaction is refused by the server. */
export const MAX_TXN_OPS = 128;
/** Read-then-commit rounds before a key that keeps changing concurrently makes us give up. */
export const MAX_ATTEMPTS = 5;

const PAST_TENSE: Record<Verb, string> = {
  create: 'created',
  replace: 'replaced',
  apply: 'applied',
  delete: 'deleted',
};

/**
 * create: every resource must be absent; replace: every one must exist; apply: either.
 * All of them are written in one transaction, or none is. Returns the success message.
 */
export function writeResources(store: Datastore, verb: WriteVerb, resources: Resource[]): Promise<string> {
  const refs = resources.map(refOf);
  return commit(store, verb, refs, (index, key, current) => {
    if (verb === 'create' && current) return `${describeRef(refs[index]!)} already exists`;
    if (verb === 'replace' && !current) return `${describeRef(refs[index]!)} does not exist`;
    return { op: 'put', key, value: storedValue(resources[index]!, current && storedResource(current)) };
  });
}

/** Every resource must exist; all are deleted in one transaction, or none is. */
export function deleteResources(store: Datastore, refs: ResourceRef[]): Promise<string> {
  return commit(store, 'delete', refs, (index, key, current) =>
    current ? { op: 'delete', key } : `${describeRef(refs[index]!)} does not exist`,
  );
}

/**
 * Read every key, let `opFor` decide the operation (or name a problem), then commit all of it
 * conditioned on exactly the revisions read. A concurrent writer makes the transaction fail
 * as a whole; the round is then repeated with fresh reads.
 */
async function commit(
  store: Datastore,
  verb: Verb,
  refs: ResourceRef[],
  opFor: (index: number, key: string, current: KeyValue | undefined) => TxnOp | string,
): Promise<string> {
  const nothing = `nothing was ${PAST_TENSE[verb]}`;
  if (refs.length > MAX_TXN_OPS) {
    throw new CommandError([
      `${refs.length} resources are more than etcd accepts in one transaction (${MAX_TXN_OPS}); ` +
        `split the input into several files of at most ${MAX_TXN_OPS} resources and run margayctl on each`,
      nothing,
    ]);
  }
  const keys = refs.map(keyOf);
  for (let attempt = 1; ; attempt++) {
    const current = await Promise.all(keys.map((key) => store.get(key)));
    const ops: TxnOp[] = [];
    const problems: string[] = [];
    keys.forEach((key, index) => {
      const op = opFor(index, key, current[index]);
      if (typeof op === 'string') problems.push(op);
      else ops.push(op);
    });
    if (problems.length > 0) throw new CommandError([...problems, nothing]);
    const conditions = keys.map((key, index) => ({ key, modRevision: current[index]?.modRevision ?? 0 }));
    try {
      await store.txn(conditions, ops);
      return successMessage(verb, refs);
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      if (attempt === MAX_ATTEMPTS) {
        const ref = refs[keys.indexOf(error.key)];
        const what = ref ? describeRef(ref) : error.key;
        throw new CommandError([`${what} kept changing concurrently (${MAX_ATTEMPTS} attempts)`, nothing]);
      }
    }
  }
}

/** calicoctl's wording: `Successfully applied 3 'IPPool' resource(s)`, kind omitted when mixed. */
function successMessage(verb: Verb, refs: ResourceRef[]): string {
  const kinds = new Set(refs.map((ref) => ref.kind));
  const kind = kinds.size === 1 ? ` '${[...kinds][0]}'` : '';
  return `Successfully ${PAST_TENSE[verb]} ${refs.length}${kind} resource(s)`;
}
