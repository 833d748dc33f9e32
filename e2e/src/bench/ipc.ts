// What the harness's child processes (tester, monitor, relay) and the runner say to each other.
// Each child gets its settings as JSON in argv[2] and talks over the fork() IPC channel. Times are
// process.hrtime.bigint() values (CLOCK_MONOTONIC, the same clock in every process) as decimal strings.

import type { WorkloadSpec } from './workload';

export interface Endpoint {
  address: string;
  port: number;
}

export interface TesterSettings {
  daemon: Endpoint;
  localAddress: string;
  routerId: string;
  workload: WorkloadSpec;
}

export interface MonitorSettings {
  daemon: Endpoint;
  /** One session per address. */
  localAddresses: string[];
  asNumber: number;
  routes: number;
}

export interface RelaySettings {
  listen: Endpoint;
  asNumber: number;
  testerAddress: string;
  monitorAddresses: string[];
}

export type ChildMessage =
  | { type: 'ready'; updates?: number; bytes?: number }
  | { type: 'sent'; start: string; end: string }
  | { type: 'first-update'; at: string }
  | { type: 'progress'; held: number }
  | { type: 'done'; at: string }
  | { type: 'failed'; reason: string };

export type RunnerMessage = { type: 'go' };

/** Sends to the runner; a child whose runner is gone has nothing left to do. */
export function tell(message: ChildMessage): void {
  process.send?.(message);
}

/** The settings a child was started with, and the rules every child follows. */
export function childSettings<T>(): T {
  process.on('disconnect', () => process.exit(0));
  process.on('uncaughtException', (error) => {
    tell({ type: 'failed', reason: error.message });
    process.exit(1);
  });
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

export function now(): string {
  return process.hrtime.bigint().toString();
}
