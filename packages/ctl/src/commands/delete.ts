import {
  addConnectionOptions,
  addFilenameOption,
  type ConnectionOptions,
  type RegisterCommand,
} from '../context';
import { CommandError, UsageError } from '../errors';
import { findDuplicates, type ResourceRef, refOf } from '../identity';
import { parseKindArgument } from '../kind-argument';
import { deleteResources } from '../mutation';
import { readResourceFiles } from '../resource-files';

interface DeleteOptions extends ConnectionOptions {
  filename: string[];
  namespace: string;
}

/** `delete -f FILE...` or `delete KIND NAME...`: every resource must exist; all go, or none. */
export const registerDeleteCommand: RegisterCommand = (program, context) => {
  const command = program
    .command('delete')
    .description('delete the resources of files, or the named resources of a kind (all or nothing)')
    .argument('[kind]', 'kind of the resources to delete (instead of -f)')
    .argument('[names...]', 'names of the resources to delete')
    .option('-n, --namespace <namespace>', 'namespace of the named resources (namespaced kinds)', 'default');
  addConnectionOptions(addFilenameOption(command)).action(
    async (kind: string | undefined, names: string[], options: DeleteOptions) => {
      const refs =
        options.filename.length > 0
          ? await refsFromFiles(kind, options.filename, context.io.stdin)
          : refsFromArguments(kind, names, options.namespace);
      const message = await context.withDatastore(options, (store) => deleteResources(store, refs));
      context.io.stdout.write(`${message}\n`);
    },
  );
};

async function refsFromFiles(
  kind: string | undefined,
  files: string[],
  stdin: NodeJS.ReadableStream,
): Promise<ResourceRef[]> {
  if (kind !== undefined) throw new UsageError('delete takes either -f FILE or KIND NAME..., not both');
  return (await readResourceFiles(files, stdin)).map(refOf);
}

function refsFromArguments(kind: string | undefined, names: string[], namespace: string): ResourceRef[] {
  if (kind === undefined) throw new UsageError('delete needs -f FILE or KIND NAME...');
  const info = parseKindArgument('delete', kind);
  if (names.length === 0) throw new UsageError(`delete ${kind} needs at least one NAME`);
  const refs = names.map((name) => ({
    kind: info.kind,
    name,
    namespace: info.namespaced ? namespace : undefined,
  }));
  const duplicates = findDuplicates(refs.map((ref) => ({ ref, origin: 'command line' })));
  if (duplicates.length > 0) throw new CommandError([...duplicates, 'nothing was deleted']);
  return refs;
}
