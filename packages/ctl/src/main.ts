import { EtcdDatastore } from '@margay/datastore';
import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands';
import { type CliIo, makeContext, type OpenDatastore } from './context';
import { CommandError, UsageError } from './errors';

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

export interface RunOptions {
  /** How to reach the datastore; the real etcd by default, a MemoryDatastore in unit tests. */
  openDatastore?: OpenDatastore;
}

/** margayctl, in-process: parses `argv` (without node and script), runs the command, returns the exit code. */
export async function run(argv: string[], io: CliIo, options: RunOptions = {}): Promise<number> {
  const openDatastore = options.openDatastore ?? ((config) => new EtcdDatastore(config));
  // Settings made before adding commands are inherited by them.
  const program = new Command('margayctl')
    .description('Create, read, update and delete margay resources in etcd.')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)');
  const context = makeContext(io, openDatastore);
  for (const register of COMMANDS) register(program, context);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_OK;
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: CliIo): number {
  // Commander has already printed its message (or the help it was asked for).
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  if (error instanceof UsageError) {
    io.stderr.write(`error: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof CommandError) {
    for (const problem of error.problems) io.stderr.write(`${problem}\n`);
    return EXIT_ERROR;
  }
  io.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_ERROR;
}
