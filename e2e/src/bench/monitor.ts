// The monitor process: one session per address, each counting the benchmark routes it holds.
// Reports the first UPDATE that carries any of them and the moment every session holds all N.

import { childSettings, type MonitorSettings, now, tell } from './ipc';
import { RouteCounter } from './route-counter';
import { openSession } from './session';

const PROGRESS_INTERVAL_MS = 1000;

async function main(): Promise<void> {
  const settings = childSettings<MonitorSettings>();
  const counters = settings.localAddresses.map(() => new RouteCounter(settings.routes));
  let first = false;
  let incomplete = counters.length;
  await Promise.all(
    settings.localAddresses.map((localAddress, i) => {
      const counter = counters[i]!;
      return openSession(
        settings.daemon,
        { asNumber: settings.asNumber, routerId: `10.255.1.${i + 1}`, localAddress },
        (updates) => {
          const wasComplete = counter.complete;
          for (const update of updates) counter.applyUpdate(update.subarray(19));
          if (!first && counter.held > 0) {
            first = true;
            tell({ type: 'first-update', at: now() });
          }
          if (counter.complete !== wasComplete) incomplete += counter.complete ? -1 : 1;
          if (incomplete === 0) tell({ type: 'done', at: now() });
        },
        (reason) => tell({ type: 'failed', reason: `monitor session ${localAddress}: ${reason}` }),
      );
    }),
  );
  setInterval(
    () => tell({ type: 'progress', held: Math.min(...counters.map((c) => c.held)) }),
    PROGRESS_INTERVAL_MS,
  );
  tell({ type: 'ready' });
}

void main();
