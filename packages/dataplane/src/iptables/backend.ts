// Which iptables the host uses. Rules written with iptables-legacy are invisible to iptables-nft and
// vice versa, so we must write with whatever kube-proxy and Docker write with. Like felix's auto mode:
// the backend that already holds rules wins; on an empty host, whatever `iptables --version` says.

import type { CommandRunner } from '../command';

export type IptablesBackend = 'legacy' | 'nft';
export type IptablesBackendMode = IptablesBackend | 'auto';

export interface IptablesCommands {
  readonly backend: IptablesBackend;
  readonly save: string;
  readonly restore: string;
}

/** The save/restore programs of a backend, for IPv4 (`iptables-*`) or IPv6 (`ip6tables-*`). */
export function iptablesCommands(backend: IptablesBackend, ipVersion: 4 | 6 = 4): IptablesCommands {
  const base = ipVersion === 4 ? 'iptables' : 'ip6tables';
  return { backend, save: `${base}-${backend}-save`, restore: `${base}-${backend}-restore` };
}

/** Detects the backend in use (or returns the forced one). */
export async function detectBackend(
  runner: CommandRunner,
  mode: IptablesBackendMode = 'auto',
  ipVersion: 4 | 6 = 4,
): Promise<IptablesBackend> {
  if (mode !== 'auto') return mode;
  const [legacy, nft] = await Promise.all([
    countRules(runner, iptablesCommands('legacy', ipVersion).save),
    countRules(runner, iptablesCommands('nft', ipVersion).save),
  ]);
  if (nft > legacy) return 'nft';
  if (legacy > nft) return 'legacy';
  const base = ipVersion === 4 ? 'iptables' : 'ip6tables';
  const version = await runner.run([base, '--version']).catch(() => null);
  const text = `${version?.stdout ?? ''}${version?.stderr ?? ''}`;
  if (version !== null && version.code === 0 && text.includes('(nf_tables)')) return 'nft';
  if (version !== null && version.code === 0 && text.includes('(legacy)')) return 'legacy';
  throw new Error(
    `cannot tell iptables-legacy from iptables-nft: no rules in either and '${base} --version' said ` +
      `${JSON.stringify(text.trim())}; force one with the backend option`,
  );
}

/** Rules present in all tables of one backend; a missing program counts as none. */
async function countRules(runner: CommandRunner, save: string): Promise<number> {
  const result = await runner.run([save]).catch(() => null);
  if (result === null || result.code !== 0) return 0;
  return result.stdout.split('\n').filter((line) => line.startsWith('-A ')).length;
}
