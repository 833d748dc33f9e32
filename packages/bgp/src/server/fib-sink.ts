// Where best-path changes go when `fib.enabled`: src/fib writes them to a Linux routing table.
// The server only knows this interface, so it runs (and is tested) without touching the kernel.

import type { BestChange } from '../table/rib';

export interface FibSink {
  apply(changes: readonly BestChange[]): void;
  /** Stops syncing; `keepRoutes` leaves installed routes in place (graceful restart). */
  close(keepRoutes: boolean): Promise<void>;
}

export const noopFibSink: FibSink = {
  apply: () => {},
  close: async () => {},
};
