import {
  addConnectionOptions,
  addFilenameOption,
  type ConnectionOptions,
  type RegisterCommand,
} from '../context';
import { UsageError } from '../errors';
import { type WriteVerb, writeResources } from '../mutation';
import { readResourceFiles } from '../resource-files';

interface WriteOptions extends ConnectionOptions {
  filename: string[];
}

const DESCRIPTIONS: Record<WriteVerb, string> = {
  create: 'create resources from files; fails, writing nothing, if any of them already exists',
  replace: 'replace existing resources from files; fails, writing nothing, if any of them does not exist',
  apply: 'create or update resources from files',
};

/** `create`, `replace` and `apply -f FILE...`: all documents validated first, then one transaction. */
export const registerWriteCommands: RegisterCommand = (program, context) => {
  for (const verb of ['create', 'replace', 'apply'] as const) {
    const command = program.command(verb).description(DESCRIPTIONS[verb]);
    addConnectionOptions(addFilenameOption(command)).action(async (options: WriteOptions) => {
      if (options.filename.length === 0) throw new UsageError(`${verb} needs -f FILE (or -f - for stdin)`);
      const resources = await readResourceFiles(options.filename, context.io.stdin);
      const message = await context.withDatastore(options, (store) => writeResources(store, verb, resources));
      context.io.stdout.write(`${message}\n`);
    });
  }
};
