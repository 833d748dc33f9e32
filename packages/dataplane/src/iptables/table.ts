// The iptables table writer, like felix's Table: holds the desired content of our chains (`mg-*`)
// and our hook rules at the top of kernel chains, reads the kernel back with iptables-save (only
// chain names and our hash comments matter), and writes the difference in ONE
// `iptables-restore --noflush` per apply. Rules without our hash comment, and chains without our
// prefix, are never written, flushed or deleted.

import type { CommandRunner } from '../command';
import {
  type BackendDetection,
  BackendDetector,
  type IptablesBackend,
  type IptablesBackendMode,
  type IptablesCommands,
} from './backend';
import {
  CHAIN_PREFIX,
  type HashedRule,
  hashRules,
  ruleTargets,
  validateChain,
  validateChainName,
  validateRule,
} from './rules';
import { parseSave, type SavedChain, type SavedRule } from './save';
import type {
  Chain,
  IptablesTable,
  PrimeResult,
  Rule,
  TableApplyOptions,
  TableApplyResult,
  TableName,
} from './types';

const TABLE_NAMES: readonly TableName[] = ['filter', 'nat', 'mangle', 'raw'];
/** Felix re-reads its tables every 90 s by default (IptablesRefreshInterval). */
export const DEFAULT_REFRESH_INTERVAL_MS = 90_000;

export interface TableOptions {
  readonly runner: CommandRunner;
  readonly name: TableName;
  /** 'auto' (default) detects legacy vs nft like felix; or force one. */
  readonly backend?: IptablesBackendMode;
  /** 4 (default) uses iptables-*, 6 uses ip6tables-*. */
  readonly ipVersion?: 4 | 6;
  /**
   * Shares one backend detection between the Tables on this runner (felix's filter and nat), and
   * primes them from its save. Its own backend and ipVersion apply; the Table's must not differ.
   * Default: a detector of this Table's own.
   */
  readonly detector?: BackendDetector;
  /** How often startPeriodicRefresh() re-reads and repairs the kernel. Default 90 s. */
  readonly refreshIntervalMs?: number;
  /** Called with the error of a failed periodic refresh (the next one retries). */
  readonly onRefreshError?: (error: Error) => void;
}

interface Plan {
  readonly input: string;
  readonly chainsWritten: number;
  /** Chains as the kernel holds them once the input is applied, and chains it deletes. */
  readonly written: readonly SavedChain[];
  readonly deleted: readonly string[];
}

export class Table implements IptablesTable {
  readonly name: TableName;
  private readonly runner: CommandRunner;
  private readonly detector: BackendDetector;
  private readonly refreshIntervalMs: number;
  private readonly onRefreshError: (error: Error) => void;
  private readonly desiredChains = new Map<string, { chain: Chain; rules: HashedRule[] }>();
  private readonly hooks = new Map<string, HashedRule[]>();
  /** The kernel's chains as last read or written; null means read before the next write. */
  private kernel: Map<string, SavedChain> | null = null;
  /**
   * Our chains updated or removed since the last plan: a plan compares only these with the kernel
   * (a start applies thousands of chains in a few batches, a change one or two), unless the
   * kernel was read since, when every desired chain is compared.
   */
  private readonly dirty = new Set<string>();
  private compareAll = true;
  private commands: IptablesCommands | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;

  constructor(options: TableOptions) {
    if (!TABLE_NAMES.includes(options.name)) {
      throw new Error(`iptables table '${options.name}' is not one of ${TABLE_NAMES.join(', ')}`);
    }
    const interval = options.refreshIntervalMs ?? DEFAULT_REFRESH_INTERVAL_MS;
    if (!Number.isFinite(interval) || interval <= 0) {
      throw new Error(`Table ${options.name}: refreshIntervalMs ${interval} must be a positive number`);
    }
    this.name = options.name;
    this.runner = options.runner;
    this.detector = options.detector ?? new BackendDetector(options);
    checkDetector(options, this.detector);
    this.refreshIntervalMs = interval;
    this.onRefreshError = options.onRefreshError ?? (() => {});
  }

  updateChains(chains: readonly Chain[]): void {
    // Validate everything first: a bad chain changes nothing.
    for (const chain of chains) validateChain(chain);
    for (const chain of chains) {
      this.desiredChains.set(chain.name, { chain, rules: hashRules(chain.name, chain.rules) });
      this.dirty.add(chain.name);
    }
  }

  removeChains(names: readonly string[]): void {
    for (const name of names) {
      validateChainName(name, 'removed chain');
      if (!name.startsWith(CHAIN_PREFIX)) throw new Error(`cannot remove chain '${name}': it is not ours`);
    }
    for (const name of names) {
      this.desiredChains.delete(name);
      this.dirty.add(name);
    }
  }

  setHooks(kernelChain: string, rules: readonly Rule[]): void {
    validateChainName(kernelChain, 'hooked chain');
    if (kernelChain.startsWith(CHAIN_PREFIX)) {
      throw new Error(
        `cannot hook into '${kernelChain}': hooks go into kernel chains, ours use updateChains`,
      );
    }
    rules.forEach((rule, index) => {
      validateRule(rule, `hook ${index + 1} in '${kernelChain}'`);
    });
    if (rules.length === 0) this.hooks.delete(kernelChain);
    else this.hooks.set(kernelChain, hashRules(kernelChain, rules));
  }

  /**
   * Writes the difference between the desired state and the kernel as last read or written.
   * `additive` writes only our chains that are missing or differ (no hooks, no deletions).
   */
  apply(options: TableApplyOptions = {}): Promise<TableApplyResult> {
    return this.serially(() => this.sync(false, options.additive === true));
  }

  /**
   * Detects the backend and reads the kernel ahead of the first apply (felix does this while it
   * lists the datastore), so the first apply only plans and writes. Does nothing once the kernel
   * has been read or written; a failed write or a refresh still re-reads. Resolves with how many
   * chains and hook rules of ours the kernel holds (as read, or as last written).
   */
  prime(): Promise<PrimeResult> {
    return this.serially(async () => {
      this.kernel ??= await this.firstRead();
      return { ours: countOurs(this.kernel) };
    });
  }

  /** Re-reads the kernel and repairs whatever someone else changed or deleted of ours. */
  refresh(): Promise<TableApplyResult> {
    return this.serially(() => this.sync(true, false));
  }

  /** The backend in use (detected at the first apply). */
  async backend(): Promise<IptablesBackend> {
    return (await this.programs()).backend;
  }

  /** Refreshes every refreshIntervalMs until stop(). */
  startPeriodicRefresh(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      this.refresh().catch((error: unknown) =>
        this.onRefreshError(error instanceof Error ? error : new Error(String(error))),
      );
    }, this.refreshIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private serially<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => {});
    return result;
  }

  private async programs(): Promise<IptablesCommands> {
    return (await this.detection()).commands;
  }

  /** The detection, on the first call only: later calls have the programs and no fresh save. */
  private async detection(): Promise<BackendDetection> {
    if (this.commands !== null) return { commands: this.commands, saved: null };
    const detection = await this.detector.detect();
    this.commands = detection.commands;
    return detection;
  }

  /**
   * The read before the first write: our table parsed out of the detection's full save when this
   * very call waited for the detection (it ran moments ago, since we asked), else `-save -t`.
   */
  private async firstRead(): Promise<Map<string, SavedChain>> {
    const { commands, saved } = await this.detection();
    return saved === null ? this.read(commands) : parseSave(saved, this.name);
  }

  private async sync(reread: boolean, additive: boolean): Promise<TableApplyResult> {
    if (reread) {
      this.kernel = await this.read(await this.programs());
      this.compareAll = true;
    } else this.kernel ??= await this.firstRead();
    const kernel = this.kernel;
    const programs = await this.programs();
    const plan = this.plan(kernel, additive);
    if (plan.input === '') return { chainsWritten: 0, bytesWritten: 0 };
    const argv = [programs.restore, '--noflush', '--wait', '10'];
    const result = await this.runner.run(argv, plan.input);
    if (result.code !== 0) {
      // The kernel may hold anything now: read it, and compare everything, before the next write.
      this.kernel = null;
      this.compareAll = true;
      throw new Error(restoreError(this.name, argv, plan.input, result.code, result.stderr));
    }
    for (const chain of plan.written) kernel.set(chain.name, chain);
    for (const name of plan.deleted) kernel.delete(name);
    return { chainsWritten: plan.chainsWritten, bytesWritten: Buffer.byteLength(plan.input) };
  }

  private async read(programs: IptablesCommands): Promise<Map<string, SavedChain>> {
    const argv = [programs.save, '-t', this.name];
    const result = await this.runner.run(argv);
    if (result.code !== 0) {
      throw new Error(`${argv.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
    }
    return parseSave(result.stdout, this.name);
  }

  /**
   * The restore input turning the kernel into the desired state (additive: only our chains that
   * are missing or differ). Takes the dirty chains: what changes while its restore runs is
   * planned by the next apply.
   */
  private plan(kernel: ReadonlyMap<string, SavedChain>, additive: boolean): Plan {
    const written: SavedChain[] = [];
    const deleted: string[] = [];
    const declare: string[] = [];
    const hookDeletes: string[] = [];
    const appends: string[] = [];
    const inserts: string[] = [];
    const chainDeletes: string[] = [];
    let chainsWritten = 0;

    const compared = this.compareAll ? [...this.desiredChains.keys()] : [...this.dirty];
    this.compareAll = false;
    this.dirty.clear();
    for (const name of compared) {
      const rules = this.desiredChains.get(name)?.rules;
      if (rules === undefined) continue; // removed: the deletions below, in a full apply
      const current = kernel.get(name);
      if (current !== undefined && sameHashes(current.rules, rules)) continue;
      // `:chain` creates a chain, or flushes it if it exists (restore --noflush semantics).
      declare.push(`:${name} - [0:0]`);
      for (const rule of rules) appends.push(`-A ${name} ${rule.text}`);
      written.push({ name, policy: '-', rules });
      chainsWritten++;
    }

    // Our chains only: what the hooks and the deletions would touch stays for a full apply.
    const kernelChains = additive ? [] : new Set([...kernel.keys(), ...this.hooks.keys()]);
    for (const name of kernelChains) {
      if (name.startsWith(CHAIN_PREFIX)) continue;
      const current = kernel.get(name)?.rules ?? [];
      const wanted = this.hooks.get(name) ?? [];
      const ours = current.filter((rule) => rule.hash !== undefined);
      const inPlace = ours.length === wanted.length && sameHashes(current.slice(0, wanted.length), wanted);
      if (inPlace) continue;
      // Delete by value, not position: another writer may insert rules between our read and write.
      for (const rule of ours) hookDeletes.push(`-D ${name} ${rule.text}`);
      for (const rule of [...wanted].reverse()) inserts.push(`-I ${name} 1 ${rule.text}`);
      const foreign = current.filter((rule) => rule.hash === undefined);
      const policy = kernel.get(name)?.policy ?? '-';
      written.push({
        name,
        policy,
        rules: [...wanted.map(({ hash, text }) => ({ hash, text })), ...foreign],
      });
      chainsWritten++;
    }

    // Scanning every rule for jump targets is the costly part of a plan (tens of thousands of
    // rules): only done when some chain of ours is up for deletion.
    let referenced: Set<string> | undefined;
    for (const name of additive ? [] : kernel.keys()) {
      if (!name.startsWith(CHAIN_PREFIX) || this.desiredChains.has(name)) continue;
      referenced ??= this.referencedChains(kernel);
      if (referenced.has(name)) continue;
      declare.push(`:${name} - [0:0]`);
      chainDeletes.push(`-X ${name}`);
      deleted.push(name);
      chainsWritten++;
    }

    const body = [...declare, ...hookDeletes, ...appends, ...inserts, ...chainDeletes];
    if (body.length === 0) return { input: '', chainsWritten: 0, written, deleted };
    const input = [`*${this.name}`, ...body, 'COMMIT', ''].join('\n');
    return { input, chainsWritten, written, deleted };
  }

  /** Chains that rules surviving this apply jump to: a chain still referenced cannot be deleted yet. */
  private referencedChains(kernel: ReadonlyMap<string, SavedChain>): Set<string> {
    const texts: string[] = [];
    for (const { rules } of this.desiredChains.values()) texts.push(...rules.map((rule) => rule.text));
    for (const rules of this.hooks.values()) texts.push(...rules.map((rule) => rule.text));
    for (const chain of kernel.values()) {
      if (chain.name.startsWith(CHAIN_PREFIX)) continue;
      for (const rule of chain.rules) if (rule.hash === undefined) texts.push(rule.text);
    }
    return new Set(texts.flatMap(ruleTargets));
  }
}

/** A shared detector must detect for this Table's runner, and as this Table was told to. */
function checkDetector(options: TableOptions, detector: BackendDetector): void {
  const where = `Table ${options.name}`;
  if (detector.runner !== options.runner) {
    throw new Error(`${where}: its detector runs on another runner (its save would show another kernel)`);
  }
  if (options.backend !== undefined && options.backend !== detector.mode) {
    throw new Error(`${where}: backend '${options.backend}' differs from its detector's '${detector.mode}'`);
  }
  if (options.ipVersion !== undefined && options.ipVersion !== detector.ipVersion) {
    throw new Error(
      `${where}: ipVersion ${options.ipVersion} differs from its detector's ${detector.ipVersion}`,
    );
  }
}

/** Chains of ours and our (hash-commented) rules in kernel chains. */
function countOurs(kernel: ReadonlyMap<string, SavedChain>): number {
  let ours = 0;
  for (const [name, chain] of kernel) {
    if (name.startsWith(CHAIN_PREFIX)) ours++;
    else for (const rule of chain.rules) if (rule.hash !== undefined) ours++;
  }
  return ours;
}

function sameHashes(current: readonly SavedRule[], wanted: readonly HashedRule[]): boolean {
  return (
    current.length === wanted.length && current.every((rule, index) => rule.hash === wanted[index]?.hash)
  );
}

/** Names the table and quotes the input line iptables-restore refused. */
function restoreError(
  table: string,
  argv: readonly string[],
  input: string,
  code: number,
  stderr: string,
): string {
  const lineNumber = Number(/line:?\s*(\d+)/i.exec(stderr)?.[1] ?? Number.NaN);
  const line = Number.isInteger(lineNumber) ? input.split('\n')[lineNumber - 1] : undefined;
  const where = line === undefined ? '' : `; input line ${lineNumber}: ${line}`;
  const message = stderr
    .split('\n')
    .map((text) => text.trim())
    .filter((text) => text !== '' && !text.startsWith('Try `'))
    .join(' / ');
  return `${argv[0]} for table '${table}' failed (${code}): ${message}${where}`;
}
