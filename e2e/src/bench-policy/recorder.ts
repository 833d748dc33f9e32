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

export class ApplyRecorder {
  private chains: (readonly Chain[])[] = [];
  private members: [set: string, members: readonly string[]][] = [];
  private bytes = 0;
  private startedAt = 0;
  private steps: Record<Step, number> = { 'ipset updates': 0, filter: 0, nat: 0, 'ipset deletions': 0 };
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
        this.chains.push(chains);
        inner.updateChains(chains);
      },
      removeChains: (names) => inner.removeChains(names),
      setHooks: (kernelChain, rules) => inner.setHooks(kernelChain, rules),
      prime: () => inner.prime(),
      apply: async (options?: TableApplyOptions): Promise<TableApplyResult> => {
        const result = await this.timed(inner.name === 'nat' ? 'nat' : 'filter', () => inner.apply(options));
        this.bytes += result.bytesWritten;
        if (options?.additive === true) this.finishEarly();
        return result;
      },
    };
  }

  private ipSets(inner: IpSetManager): IpSets {
    // Copied: felix may hand over a live collection.
    return {
      replaceMembers: (set: IpSetSpec, members: Iterable<string>) => {
        const list = [...members];
        this.members.push([set.name, list]);
        inner.replaceMembers(set, list);
      },
      addMembers: (name, members) => {
        const list = [...members];
        this.members.push([name, list]);
        inner.addMembers(name, list);
      },
      removeMembers: (name, members) => inner.removeMembers(name, members),
      removeSet: (name) => inner.removeSet(name),
      prime: () => inner.prime(),
      applyUpdates: async (): Promise<IpSetApplyResult> => {
        this.startedAt = monotonicMs();
        const result = await this.timed('ipset updates', () => inner.applyUpdates());
        this.bytes += result.bytesWritten;
        return result;
      },
      applyDeletions: async (): Promise<IpSetApplyResult> => {
        const result = await this.timed('ipset deletions', () => inner.applyDeletions());
        this.bytes += result.bytesWritten;
        this.finish();
        return result;
      },
    };
  }

  private async timed<T>(step: Step, run: () => Promise<T>): Promise<T> {
    const started = monotonicMs();
    try {
      return await run();
    } finally {
      this.steps[step] = monotonicMs() - started;
    }
  }

  /** An early apply ends with its additive filter apply; it is not an AppliedBatch. */
  private finishEarly(): void {
    this.early.push({
      startedAt: this.startedAt,
      finishedAt: monotonicMs(),
      ipsetMs: this.steps['ipset updates'],
      filterMs: this.steps.filter,
      bytesWritten: this.bytes,
    });
    this.reset();
  }

  private finish(): void {
    const { chains, members } = this;
    const batch: AppliedBatch = {
      finishedAt: monotonicMs(),
      bytesWritten: this.bytes,
      hasRule: (pattern) =>
        chains.some((list) =>
          list.some((chain) => chain.rules.some((rule) => pattern.test(`${rule.match} ${rule.action}`))),
        ),
      setOf: (member) => members.find(([, list]) => list.includes(member))?.[0],
      startedAt: this.startedAt,
      steps: this.steps,
    };
    this.reset();
    for (const listener of [...this.listeners]) listener(batch);
  }

  private reset(): void {
    this.steps = { 'ipset updates': 0, filter: 0, nat: 0, 'ipset deletions': 0 };
    this.chains = [];
    this.members = [];
    this.bytes = 0;
  }
}
