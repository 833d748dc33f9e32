import { Readable } from 'node:stream';
import type { Datastore } from '@margay/datastore';
import type { OpenDatastore } from './context';
import { run } from './main';

/** What one in-process margayctl run printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  stdin?: string;
  env?: Record<string, string>;
  openDatastore?: OpenDatastore;
}

/** Run margayctl in-process with captured output (tests only). */
export async function runCli(argv: string[], options: RunCliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await run(
    argv,
    {
      stdin: Readable.from(options.stdin === undefined ? [] : [options.stdin]),
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: options.env ?? {},
    },
    { openDatastore: options.openDatastore },
  );
  return { code, stdout, stderr };
}

/**
 * A view of `store` whose close() only counts (the CLI closes what it opens; a test keeps using
 * the store afterwards). `txn` can be replaced to inject concurrent writers.
 */
export function sharedView(
  store: Datastore,
  overrides: Partial<Datastore> = {},
): Datastore & { closed: number } {
  const view = {
    closed: 0,
    get: (key: string) => store.get(key),
    list: (prefix: string) => store.list(prefix),
    put: (...args: Parameters<Datastore['put']>) => store.put(...args),
    delete: (...args: Parameters<Datastore['delete']>) => store.delete(...args),
    txn: (...args: Parameters<Datastore['txn']>) => store.txn(...args),
    grantLease: (ttlSeconds: number) => store.grantLease(ttlSeconds),
    watch: (...args: Parameters<Datastore['watch']>) => store.watch(...args),
    compact: (revision: number) => store.compact(revision),
    revision: () => store.revision(),
    close: async () => {
      view.closed++;
    },
    ...overrides,
  };
  return view;
}
