// The real iptables Tables and IpSetManager felix would build, wrapped to tell the benchmark what
// each apply carried (rules and set members staged since the previous apply), how many bytes it
// wrote, and when it finished (the end of the ipset deletions, the last step of an apply). Early
// applies (felix on a fresh kernel, before in-sync: ipset updates and an additive filter apply,
// no deletions) are recorded apart, in `early`. What an apply carried is kept by reference and
// looked at only when a test asks, so recording adds next to nothing to felix's own work.
import {
  BackendDetector,
  type Chain,
  type CommandRunner,
  type IpSetApplyResult,
  IpSetManager,
  type IpSetSpec,
  type IpSets,
  type IptablesTable,
  Table,
  type TableApplyOptions,
  type TableApplyResult,
} from '@margay/dataplane';
import type { PolicyDataplane } from '@margay/felix';
import { monotonicMs } from './protocol';

export interface AppliedBatch {
  /** Monotonic ms (protocol.ts) when the apply finished. */
  readonly finishedAt: number;
  readonly bytesWritten: number;
  /** Whether a rule handed to the tables matches `pattern` (on its match + action text). */
  hasRule(pattern: RegExp): boolean;
  /** A set `member` was added to, if any. */
  setOf(member: string): string | undefined;
  /** Monotonic ms when the apply began writing (its ipset updates started). */
  readonly startedAt: number;
  /** Milliseconds per step of the apply, in order. */
  readonly steps: Readonly<Record<Step, number>>;
}

/** One early (unreferenced-only) apply. */
export interface EarlyApply {
  /** Monotonic ms when its ipset updates began, and when its filter restore ended. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly ipsetMs: number;
  readonly filterMs: number;
  readonly bytesWritten: number;
}

export const STEPS = ['ipset updates', 'filter', 'nat', 'ipset deletions'] as const;
export type Step = (typeof STEPS)[number];

/** What one apply staged and wrote, from its ipset updates on. */
interface ApplyRecord {
  readonly startedAt: number;
  readonly chains: (readonly Chain[])[];
  readonly members: [set: string, members: readonly string[]][];
  readonly steps: Record<Step, number>;
  bytes: number;
}

const noSteps = (): Record<Step, number> => ({ 'ipset updates': 0, filter: 0, nat: 0, 'ipset deletions': 0 });

export class ApplyRecorder {
  /** Staged by the calc since the last apply began: the next apply's. */
  private staged: Pick<ApplyRecord, 'chains' | 'members'> = { chains: [], members: [] };
  /** The apply that began (its ipset updates) and has not finished: felix runs one at a time. */
  private current: ApplyRecord | undefined;
  private readonly listeners = new Set<(batch: AppliedBatch) => void>();
  readonly early: EarlyApply[] = [];

  /** Resolves with the first apply (from now on) whose batch satisfies `test`. */
  next(test: (batch: AppliedBatch) => boolean): Promise<AppliedBatch> {
    return new Promise((resolve) => {
      const listener = (batch: AppliedBatch) => {
        if (!test(batch)) return;
        this.listeners.delete(listener);
        resolve(batch);
      };
      this.listeners.add(listener);
    });
  }

  dataplane(runner: CommandRunner): PolicyDataplane {
    // As felix builds them: one backend detection, whose full save primes both tables.
    const detector = new BackendDetector({ runner });
    const filter = new Table({ runner, name: 'filter', detector });
    const nat = new Table({ runner, name: 'nat', detector });
    return {
      filter: this.table(filter),
      nat: this.table(nat),
      ipSets: this.ipSets(new IpSetManager({ runner })),
      start: () => {
        filter.startPeriodicRefresh();
        nat.startPeriodicRefresh();
      },
      stop: () => {
        filter.stop();
        nat.stop();
      },
    };
  }

  private table(inner: Table): IptablesTable {
    return {
      name: inner.name,
      updateChains: (chains: readonly Chain[]) => {
        this.staged.chains.push(chains);
        inner.updateChains(chains);
      },
      removeChains: (names) => inner.removeChains(names),
      setHooks: (kernelChain, rules) => inner.setHooks(kernelChain, rules),
      prime: () => inner.prime(),
      apply: async (options?: TableApplyOptions): Promise<TableApplyResult> => {
        const record = this.begun();
        const result = await timed(record, inner.name === 'nat' ? 'nat' : 'filter', () =>
          inner.apply(options),
        );
        record.bytes += result.bytesWritten;
        if (options?.additive === true) this.finishEarly(record);
        return result;
      },
    };
  }

  private ipSets(inner: IpSetManager): IpSets {
    // Copied: felix may hand over a live collection.
    return {
      replaceMembers: (set: IpSetSpec, members: Iterable<string>) => {
        const list = [...members];
        this.staged.members.push([set.name, list]);
        inner.replaceMembers(set, list);
      },
      addMembers: (name, members) => {
        const list = [...members];
        this.staged.members.push([name, list]);
        inner.addMembers(name, list);
      },
      removeMembers: (name, members) => inner.removeMembers(name, members),
      removeSet: (name) => inner.removeSet(name),
      prime: () => inner.prime(),
      applyUpdates: async (): Promise<IpSetApplyResult> => {
        // An apply begins: it takes what was staged.
        const record: ApplyRecord = { ...this.staged, startedAt: monotonicMs(), steps: noSteps(), bytes: 0 };
        this.staged = { chains: [], members: [] };
        this.current = record;
        const result = await timed(record, 'ipset updates', () => inner.applyUpdates());
        record.bytes += result.bytesWritten;
        return result;
      },
      applyDeletions: async (): Promise<IpSetApplyResult> => {
        const record = this.begun();
        const result = await timed(record, 'ipset deletions', () => inner.applyDeletions());
        record.bytes += result.bytesWritten;
        this.finish(record);
        return result;
      },
    };
  }

  private begun(): ApplyRecord {
    const record = this.current;
    if (record === undefined)
      throw new Error('the recorder saw a table apply or ipset deletions before any ipset updates');
    return record;
  }

  /** An early apply ends with its additive filter apply; it is not an AppliedBatch. */
  private finishEarly(record: ApplyRecord): void {
    this.current = undefined;
    this.early.push({
      startedAt: record.startedAt,
      finishedAt: monotonicMs(),
      ipsetMs: record.steps['ipset updates'],
      filterMs: record.steps.filter,
      bytesWritten: record.bytes,
    });
  }

  private finish(record: ApplyRecord): void {
    this.current = undefined;
    const { chains, members } = record;
    const batch: AppliedBatch = {
      finishedAt: monotonicMs(),
      bytesWritten: record.bytes,
      hasRule: (pattern) =>
        chains.some((list) =>
          list.some((chain) => chain.rules.some((rule) => pattern.test(`${rule.match} ${rule.action}`))),
        ),
      setOf: (member) => members.find(([, list]) => list.includes(member))?.[0],
      startedAt: record.startedAt,
      steps: record.steps,
    };
    for (const listener of [...this.listeners]) listener(batch);
  }
}

async function timed<T>(record: ApplyRecord, step: Step, run: () => Promise<T>): Promise<T> {
  const started = monotonicMs();
  try {
    return await run();
  } finally {
    record.steps[step] = monotonicMs() - started;
  }
}
