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

/** What one detection found. */
export interface BackendDetection {
  readonly commands: IptablesCommands;
  /**
   * The chosen backend's full save output (every table), which auto-detection ran anyway: a
   * caller about to read a table can parse it out of this instead of running `-save -t` again.
   * Only handed to the callers that were waiting while the detection ran (for anyone asking
   * later it would be stale); null then, when the backend is forced, or when that save failed.
   */
  readonly saved: string | null;
}

export interface BackendDetectorOptions {
  readonly runner: CommandRunner;
  /** 'auto' (default) detects legacy vs nft like felix; or force one. */
  readonly backend?: IptablesBackendMode;
  /** 4 (default) uses iptables-*, 6 uses ip6tables-*. */
  readonly ipVersion?: 4 | 6;
}

/**
 * Detects the backend once for every Table on one runner and IP version (each detection runs both
 * backends' `-save` and perhaps `--version`: worth sharing between filter and nat). A failed
 * detection is not remembered: the next caller runs it again.
 */
export class BackendDetector {
  readonly runner: CommandRunner;
  readonly mode: IptablesBackendMode;
  readonly ipVersion: 4 | 6;
  private commands: IptablesCommands | null;
  private running: Promise<BackendDetection> | null = null;

  constructor(options: BackendDetectorOptions) {
    this.runner = options.runner;
    this.mode = options.backend ?? 'auto';
    this.ipVersion = options.ipVersion ?? 4;
    if (this.mode !== 'auto' && this.mode !== 'legacy' && this.mode !== 'nft') {
      throw new Error(`iptables backend '${String(this.mode)}' is not one of auto, legacy, nft`);
    }
    if (this.ipVersion !== 4 && this.ipVersion !== 6) {
      throw new Error(`iptables ipVersion ${String(this.ipVersion)} is not 4 or 6`);
    }
    this.commands = this.mode === 'auto' ? null : iptablesCommands(this.mode, this.ipVersion);
  }

  /** The backend's programs; the detection's full save too, for callers that waited for it. */
  detect(): Promise<BackendDetection> {
    if (this.commands !== null) return Promise.resolve({ commands: this.commands, saved: null });
    this.running ??= detectWithSave(this.runner, this.ipVersion).then(
      ({ backend, saved }) => {
        this.commands = iptablesCommands(backend, this.ipVersion);
        // Not kept: the save is only fresh for those already waiting (and may be megabytes).
        this.running = null;
        return { commands: this.commands, saved };
      },
      (error: unknown) => {
        this.running = null;
        throw error;
      },
    );
    return this.running;
  }
}

async function detectWithSave(
  runner: CommandRunner,
  ipVersion: 4 | 6,
): Promise<{ backend: IptablesBackend; saved: string | null }> {
  const [legacy, nft] = await Promise.all([
    saveAll(runner, iptablesCommands('legacy', ipVersion).save),
    saveAll(runner, iptablesCommands('nft', ipVersion).save),
  ]);
  const legacyRules = countRules(legacy);
  const nftRules = countRules(nft);
  if (nftRules > legacyRules) return { backend: 'nft', saved: nft };
  if (legacyRules > nftRules) return { backend: 'legacy', saved: legacy };
  const base = ipVersion === 4 ? 'iptables' : 'ip6tables';
  const version = await runner.run([base, '--version']).catch(() => null);
  const text = `${version?.stdout ?? ''}${version?.stderr ?? ''}`;
  if (version !== null && version.code === 0 && text.includes('(nf_tables)')) {
    return { backend: 'nft', saved: nft };
  }
  if (version !== null && version.code === 0 && text.includes('(legacy)')) {
    return { backend: 'legacy', saved: legacy };
  }
  throw new Error(
    `cannot tell iptables-legacy from iptables-nft: no rules in either and '${base} --version' said ` +
      `${JSON.stringify(text.trim())}; force one with the backend option`,
  );
}

/** All tables of one backend, or null when its save failed (a missing program holds no rules). */
async function saveAll(runner: CommandRunner, save: string): Promise<string | null> {
  const result = await runner.run([save]).catch(() => null);
  return result === null || result.code !== 0 ? null : result.stdout;
}

function countRules(saved: string | null): number {
  if (saved === null) return 0;
  return saved.split('\n').filter((line) => line.startsWith('-A ')).length;
}
