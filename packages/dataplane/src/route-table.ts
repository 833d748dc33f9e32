// The route writer: owns the routes of one (table, proto) and makes the kernel hold exactly the
// desired set. Everything is written through one `ip -force -batch -` per flush, and only
// routes tagged with our proto are ever read back or deleted, so other writers' routes are safe.

import type { CommandRunner } from './command';
import { parsePrefix } from './prefix';
import {
  type CanonicalRoute,
  canonicalRoute,
  deleteLine,
  type KernelRoute,
  type Ownership,
  parseShownRoutes,
  replaceLine,
  satisfies,
} from './route';

export const MAIN_TABLE = 254;

export interface RouteTableOptions {
  readonly runner: CommandRunner;
  /** The rtnetlink protocol number that marks our routes: 5-255 (0-4 are the kernel's own). */
  readonly proto: number;
  /** Routing table id. Default main (254). */
  readonly table?: number;
}

export interface RouteFailure {
  readonly dst: string;
  readonly line: string;
  readonly error: string;
}

export interface WriteResult {
  /** Lines written to `ip -batch`. */
  readonly lines: number;
  /** Lines the kernel refused; their prefixes are retried on the next flush or reconcile. */
  readonly failures: readonly RouteFailure[];
}

interface Step {
  readonly dst: string;
  readonly action: 'replace' | 'del';
  readonly route: CanonicalRoute;
  readonly line: string;
}

export class RouteTable {
  private readonly runner: CommandRunner;
  private readonly owner: Ownership;
  private readonly desired = new Map<string, CanonicalRoute>();
  /** Our routes in the kernel as last read or written, by destination (several metrics possible). */
  private readonly installed = new Map<string, CanonicalRoute[]>();
  /** Destinations whose desired and installed state may differ. */
  private readonly dirty = new Set<string>();
  /** Writes run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: RouteTableOptions) {
    const { proto, table = MAIN_TABLE } = options;
    if (!Number.isInteger(proto) || proto < 5 || proto > 255) {
      throw new Error(`RouteTable proto ${proto} must be an integer in 5-255 (0-4 belong to the kernel)`);
    }
    if (!Number.isInteger(table) || table < 1 || table > 0xffffffff) {
      throw new Error(`RouteTable table ${table} must be an integer in 1-4294967295`);
    }
    this.runner = options.runner;
    this.owner = { proto, table };
  }

  /** Desires a route to `route.dst` (replacing any earlier one). Throws, changing nothing, if invalid. */
  set(route: KernelRoute): void {
    const canonical = canonicalRoute(route);
    this.desired.set(canonical.dst, canonical);
    this.dirty.add(canonical.dst);
  }

  /** No longer desires a route to `dst`. */
  delete(dst: string): void {
    const { text } = parsePrefix(dst, 'RouteTable.delete');
    this.desired.delete(text);
    this.dirty.add(text);
  }

  /** Desires no routes at all: the next reconcile removes every route of our proto. */
  clear(): void {
    for (const dst of this.desired.keys()) this.dirty.add(dst);
    this.desired.clear();
  }

  /** Desired routes, canonical, by destination. */
  routes(): ReadonlyMap<string, CanonicalRoute> {
    return this.desired;
  }

  /** Writes the changes since the last write, in one batch. */
  flush(): Promise<WriteResult> {
    return this.serially(() => {
      const dsts = [...this.dirty];
      this.dirty.clear();
      return this.write(dsts);
    });
  }

  /** Reads what the kernel holds for our proto and table, and writes the whole difference in one batch. */
  reconcile(): Promise<WriteResult> {
    return this.serially(async () => {
      const [v4, v6] = await Promise.all([this.read(4), this.read(6)]);
      this.installed.clear();
      for (const route of [...v4, ...v6])
        this.installed.set(route.dst, [...this.installedAt(route.dst), route]);
      this.dirty.clear();
      return this.write([...new Set([...this.desired.keys(), ...this.installed.keys()])]);
    });
  }

  private serially<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => {});
    return result;
  }

  private async read(family: 4 | 6): Promise<CanonicalRoute[]> {
    const { proto, table } = this.owner;
    const argv = ['ip', '-j', `-${family}`, 'route', 'show', 'table', String(table), 'proto', String(proto)];
    const result = await this.runner.run(argv);
    // A table that never held a route does not exist yet: it holds none of ours.
    if (result.stderr.includes('table does not exist')) return [];
    if (result.code !== 0)
      throw new Error(`${argv.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
    return parseShownRoutes(result.stdout, family);
  }

  private installedAt(dst: string): CanonicalRoute[] {
    return this.installed.get(dst) ?? [];
  }

  private async write(dsts: readonly string[]): Promise<WriteResult> {
    const steps = dsts.flatMap((dst) => this.plan(dst));
    if (steps.length === 0) return { lines: 0, failures: [] };
    const batch = steps.map((step) => `${step.line}\n`).join('');
    const result = await this.runner.run(['ip', '-force', '-batch', '-'], batch);
    const errors = result.code === 0 ? new Map<number, string>() : batchErrors(result.stderr, steps.length);
    const failures: RouteFailure[] = [];
    steps.forEach((step, index) => {
      const error = errors.get(index);
      // Deleting a route that is already gone reached the desired state.
      if (error === undefined || (step.action === 'del' && error.includes('No such process'))) {
        this.record(step);
      } else {
        failures.push({ dst: step.dst, line: step.line, error });
        this.dirty.add(step.dst);
      }
    });
    return { lines: steps.length, failures };
  }

  /** Lines that take `dst` from installed to desired: stale routes deleted first, then the replace. */
  private plan(dst: string): Step[] {
    const desired = this.desired.get(dst);
    const installed = this.installedAt(dst);
    const steps: Step[] = installed
      .filter((route) => route.metric !== desired?.metric)
      .map((route) => ({ dst, action: 'del', route, line: deleteLine(route, this.owner) }));
    if (desired && !installed.some((route) => satisfies(route, desired))) {
      steps.push({ dst, action: 'replace', route: desired, line: replaceLine(desired, this.owner) });
    }
    return steps;
  }

  private record(step: Step): void {
    const others = this.installedAt(step.dst).filter((route) => route.metric !== step.route.metric);
    const now = step.action === 'replace' ? [...others, step.route] : others;
    if (now.length > 0) this.installed.set(step.dst, now);
    else this.installed.delete(step.dst);
  }
}

/**
 * Maps `ip -force -batch` stderr to the failed lines (0-based): each failure is the messages
 * printed since the previous one, followed by "Command failed -:<line>". Without any such
 * marker (ip itself failed) every line counts as failed.
 */
function batchErrors(stderr: string, lineCount: number): Map<number, string> {
  const errors = new Map<number, string>();
  let messages: string[] = [];
  for (const text of stderr.split('\n')) {
    const failed = /^Command failed .*:(\d+)$/.exec(text.trim());
    if (failed) {
      errors.set(Number(failed[1]) - 1, messages.join('; ') || 'failed');
      messages = [];
    } else if (text.trim() !== '') {
      messages.push(text.trim());
    }
  }
  if (errors.size === 0) {
    const error = stderr.trim() || 'ip -batch failed without a message';
    for (let index = 0; index < lineCount; index++) errors.set(index, error);
  }
  return errors;
}
