// What the policy benchmark and its felix process say to each other over the fork() IPC channel.
// Felix runs in a process of its own, as in margay-node: a cold JIT at every start, a heap holding
// only felix, and CPU that can be told apart from the benchmark's. Times are milliseconds of
// CLOCK_MONOTONIC (process.hrtime), the same clock in both processes.

import type { Step } from './recorder';

/** The felix process runs inside the namespace it programs: etcd is reached by its Unix socket. */
export interface FelixProcessSettings {
  readonly etcdEndpoints: readonly string[];
  readonly nodeName: string;
  readonly earlyProgramming: boolean;
}

/** CPU milliseconds (user + system) spent between felix's start and its first full apply. */
export interface StartCpu {
  /** Felix's main thread: the event loop, calc, render, spawning commands. */
  readonly mainThread: number;
  /** Felix's other threads: V8's compiler and GC helpers, libuv's pool. */
  readonly otherThreads: number;
  /** The commands felix ran (iptables-restore, ipset, ...), once they exited. */
  readonly commands: number;
}

export interface EarlyApplyReport {
  /** Milliseconds after felix's start. */
  readonly startedMs: number;
  readonly finishedMs: number;
  readonly ipsetMs: number;
  readonly filterMs: number;
  readonly bytesWritten: number;
}

export interface ProgrammedReport {
  readonly type: 'programmed';
  /** felix.start() → the first full apply finished. */
  readonly startMs: number;
  /** felix.start() → felix said every policy input had listed (in sync). */
  readonly inSyncMs: number;
  /** felix.start() → the first full apply began writing (after an early apply still running). */
  readonly beforeApplyMs: number;
  readonly steps: Readonly<Record<Step, number>>;
  readonly bytesWritten: number;
  readonly early: readonly EarlyApplyReport[];
  readonly localEndpoints: number;
  readonly activePolicies: number;
  readonly cpu: StartCpu;
}

export interface AppliedReport {
  readonly type: 'applied';
  readonly id: number;
  /** Monotonic ms when the apply carrying the change began and finished writing. */
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly bytesWritten: number;
  readonly steps: Readonly<Record<Step, number>>;
  /** For a member change: the set the member was added to. */
  readonly set?: string;
}

export type FelixProcessMessage =
  | { readonly type: 'ready' }
  | ProgrammedReport
  | { readonly type: 'expecting'; readonly id: number }
  | AppliedReport
  | { readonly type: 'failed'; readonly reason: string };

/** An apply carrying a rule with this destination port, or this set member. */
export interface Expectation {
  readonly id: number;
  readonly port?: number;
  readonly member?: string;
}

export type BenchMessage =
  | { readonly type: 'start' }
  | ({ readonly type: 'expect' } & Expectation)
  | { readonly type: 'stop' };

export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
