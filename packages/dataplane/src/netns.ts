// Named network namespaces: throwaway ones for tests with a real kernel, and later the CNI's pods.

import { randomBytes } from 'node:crypto';
import { ProcessRunner } from './command';

export class NetworkNamespace {
  /** Runs commands inside the namespace. */
  readonly runner: ProcessRunner;

  private constructor(readonly name: string) {
    this.runner = new ProcessRunner({ netns: name });
  }

  /** Creates a namespace with a fresh name starting with `label`. */
  static async create(label: string): Promise<NetworkNamespace> {
    const name = `${label}-${randomBytes(4).toString('hex')}`;
    await runIp(['netns', 'add', name]);
    const netns = new NetworkNamespace(name);
    await netns.ip('link', 'set', 'lo', 'up');
    return netns;
  }

  /** Runs `ip <args>` inside the namespace and returns its stdout; throws with stderr on failure. */
  ip(...args: string[]): Promise<string> {
    return runIp(['-n', this.name, ...args]);
  }

  delete(): Promise<string> {
    return runIp(['netns', 'delete', this.name]);
  }
}

async function runIp(args: string[]): Promise<string> {
  const result = await new ProcessRunner().run(['ip', ...args]);
  if (result.code !== 0)
    throw new Error(`ip ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
  return result.stdout;
}
