// The real iptables Tables and IpSetManager felix would build, wrapped to tell the benchmark what
// each apply carried (rules and set members staged since the previous apply), how many bytes it
// wrote, and when it finished (the end of the ipset deletions, the last step of an apply). Early
// applies (felix on a fresh kernel, before in-sync: ipset updates and an additive filter apply,
// no deletions) are recorded apart, in `early`.
import {
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

export interface AppliedBatch {
  /** performance.now() when the apply finished. */
  readonly finishedAt: number;
  readonly bytesWritten: number;
  /** Rule texts (match + action) of the chains handed to the tables. */
  readonly ruleTexts: readonly string[];
  /** Address → a set it was added to. */
  readonly addedMembers: ReadonlyMap<string, string>;
  /** performance.now() when the apply began writing (its ipset updates started). */
  readonly startedAt: number;
  /** Milliseconds per step of the apply, in order. */
  readonly steps: Readonly<Record<Step, number>>;
}

/** One early (unreferenced-only) apply. */
export interface EarlyApply {
  /** performance.now() when its ipset updates began, and when its filter restore ended. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly ipsetMs: number;
  readonly filterMs: number;
  readonly bytesWritten: number;
}

export const STEPS = ['ipset updates', 'filter', 'nat', 'ipset deletions'] as const;
export type Step = (typeof STEPS)[number];

export class ApplyRecorder {
  private ruleTexts: string[] = [];
  private addedMembers = new Map<string, string>();
  private bytes = 0;
  private startedAt = 0;
  private steps: Record<Step, number> = { 'ipset updates': 0, filter: 0, nat: 0, 'ipset deletions': 0 };
  private readonly listeners = new Set<(batch: AppliedBatch) => void>();
  readonly batches: AppliedBatch[] = [];
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
    const filter = new Table({ runner, name: 'filter' });
    const nat = new Table({ runner, name: 'nat' });
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
        for (const chain of chains)
          for (const rule of chain.rules) this.ruleTexts.push(`${rule.match} ${rule.action}`);
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
    const added = (name: string, members: Iterable<string>) => {
      for (const member of members) this.addedMembers.set(member, name);
    };
    return {
      replaceMembers: (set: IpSetSpec, members: Iterable<string>) => {
        const list = [...members];
        added(set.name, list);
        inner.replaceMembers(set, list);
      },
      addMembers: (name, members) => {
        const list = [...members];
        added(name, list);
        inner.addMembers(name, list);
      },
      removeMembers: (name, members) => inner.removeMembers(name, members),
      removeSet: (name) => inner.removeSet(name),
      prime: () => inner.prime(),
      applyUpdates: async (): Promise<IpSetApplyResult> => {
        this.startedAt = performance.now();
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
    const started = performance.now();
    try {
      return await run();
    } finally {
      this.steps[step] = performance.now() - started;
    }
  }

  /** An early apply ends with its additive filter apply; it is not an AppliedBatch. */
  private finishEarly(): void {
    this.early.push({
      startedAt: this.startedAt,
      finishedAt: performance.now(),
      ipsetMs: this.steps['ipset updates'],
      filterMs: this.steps.filter,
      bytesWritten: this.bytes,
    });
    this.steps = { 'ipset updates': 0, filter: 0, nat: 0, 'ipset deletions': 0 };
    this.ruleTexts = [];
    this.addedMembers = new Map();
    this.bytes = 0;
  }

  private finish(): void {
    const batch: AppliedBatch = {
      finishedAt: performance.now(),
      bytesWritten: this.bytes,
      ruleTexts: this.ruleTexts,
      addedMembers: this.addedMembers,
      startedAt: this.startedAt,
      steps: this.steps,
    };
    this.steps = { 'ipset updates': 0, filter: 0, nat: 0, 'ipset deletions': 0 };
    this.ruleTexts = [];
    this.addedMembers = new Map();
    this.bytes = 0;
    this.batches.push(batch);
    for (const listener of [...this.listeners]) listener(batch);
  }
}
