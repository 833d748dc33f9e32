/** The command line itself is wrong (unknown kind, missing -f, ...): exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * The command could not do what was asked (invalid documents, missing or existing resources,
 * conflicts): exit code 1. Each line of `problems` is printed on its own line to stderr.
 */
export class CommandError extends Error {
  override name = 'CommandError';

  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}
