// What felix's policy tests on a real kernel share: namespaces removed together at the end, commands
// that must succeed, and verdicts awaited with felix's warnings and the rules in every failure.

import { NetworkNamespace } from '@margay/dataplane';
import { waitFor } from '@margay/testkit';

/** Runs `argv` in `ns` and returns its stdout; throws with its stderr if it fails. */
export async function runIn(ns: NetworkNamespace, argv: string[]): Promise<string> {
  const result = await ns.runner.run(argv);
  if (result.code !== 0) throw new Error(`${argv.join(' ')} failed in ${ns.name}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** The namespaces a test creates; deleteAll() in afterAll (rules and ipsets in them go too). */
export class TestNamespaces {
  private readonly created: NetworkNamespace[] = [];

  async create(label: string): Promise<NetworkNamespace> {
    const ns = await NetworkNamespace.create(label);
    this.created.push(ns);
    return ns;
  }

  async deleteAll(): Promise<void> {
    for (const ns of this.created.splice(0)) await ns.delete().catch(() => undefined);
  }
}

/**
 * A verdict awaited for up to 20 s; a failure adds what felix warned about and `iptables-save
 * ...saveArgs` in `ns`, which is what explains it.
 */
export async function eventually(
  what: string,
  condition: () => Promise<boolean>,
  diagnostics: { ns: NetworkNamespace; saveArgs?: string[]; warnings: readonly string[] },
): Promise<void> {
  try {
    await waitFor(what, condition, 20_000);
  } catch (error) {
    const rules = await runIn(diagnostics.ns, ['iptables-save', ...(diagnostics.saveArgs ?? [])]).catch(
      (e: Error) => e.message,
    );
    throw new Error(
      `${(error as Error).message}\nfelix warned: ${diagnostics.warnings.join('\n') || 'nothing'}\n${rules}`,
    );
  }
}

/** A node script serving "hi" on TCP `ports` at `host`; prints `ready` once every port listens. */
export function tcpServerScript(ports: readonly number[], host: string): string {
  return `
const net = require('node:net');
let listening = 0;
for (const port of ${JSON.stringify(ports)}) {
  net.createServer((socket) => socket.end('hi')).listen(port, '${host}', () => {
    if (++listening === ${ports.length}) console.log('ready');
  });
}`;
}

/** A node script `-e PROBE host port`: exit 0 if the server answered, 2 on timeout, 3 if refused. */
export const TCP_PROBE = `
const socket = require('node:net').connect({ host: process.argv[1], port: Number(process.argv[2]) });
socket.setTimeout(1500, () => process.exit(2));
socket.on('data', () => process.exit(0));
socket.on('error', () => process.exit(3));`;
