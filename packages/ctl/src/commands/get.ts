import { type KindInfo, type Resource, resourcePrefix } from '@margay/api';
import type { Datastore } from '@margay/datastore';
import { Option } from 'commander';
import { addConnectionOptions, type ConnectionOptions, type RegisterCommand } from '../context';
import { CommandError, UsageError } from '../errors';
import { describeRef, keyOf } from '../identity';
import { parseKindArgument } from '../kind-argument';
import { OUTPUT_FORMATS, type OutputFormat, renderResources } from '../output';
import { storedResource } from '../stored';

interface GetOptions extends ConnectionOptions {
  namespace: string;
  allNamespaces?: boolean;
  output: OutputFormat;
}

/** `get KIND [NAME...]`: the named resources, or every one of the kind (in a namespace, or all). */
export const registerGetCommand: RegisterCommand = (program, context) => {
  const command = program
    .command('get')
    .description('show resources of one kind: all of them, or the named ones')
    .argument('[kind]', 'kind, plural or short form (ippool, ippools, pool, gnp, ...)')
    .argument('[names...]', 'names of the resources (default: all of the kind)')
    .option('-n, --namespace <namespace>', 'namespace (namespaced kinds)', 'default')
    .option('-A, --all-namespaces', 'every namespace (namespaced kinds)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'));
  addConnectionOptions(command).action(
    async (kind: string | undefined, names: string[], options: GetOptions) => {
      const info = parseKindArgument('get', kind);
      if (options.allNamespaces && names.length > 0) {
        throw new UsageError('-A/--all-namespaces lists every resource of the kind; it takes no NAME');
      }
      const namespace = info.namespaced && !options.allNamespaces ? options.namespace : undefined;
      const resources = await context.withDatastore(options, (store) =>
        names.length > 0 ? getNamed(store, info, names, namespace) : listKind(store, info, namespace),
      );
      context.io.stdout.write(
        renderResources(resources, options.output, {
          kind: info.kind,
          single: names.length === 1,
          showNamespace: info.namespaced && options.allNamespaces === true,
        }),
      );
    },
  );
};

async function getNamed(
  store: Datastore,
  info: KindInfo,
  names: string[],
  namespace?: string,
): Promise<Resource[]> {
  const refs = names.map((name) => ({ kind: info.kind, name, namespace }));
  const found = await Promise.all(refs.map((ref) => store.get(keyOf(ref))));
  const missing = refs.filter((_, index) => found[index] === undefined);
  if (missing.length > 0) throw new CommandError(missing.map((ref) => `${describeRef(ref)} does not exist`));
  return found.map((kv) => storedResource(kv!));
}

async function listKind(store: Datastore, info: KindInfo, namespace?: string): Promise<Resource[]> {
  const { items } = await store.list(resourcePrefix(info.kind, namespace));
  return items.map(storedResource);
}
