// The tester process: encodes all UPDATEs up front, opens its session to the daemon, says ready,
// and on "go" writes everything at once, as fast as the socket takes it.

import { childSettings, now, type RunnerMessage, type TesterSettings, tell } from './ipc';
import { openSession } from './session';
import { buildWorkload } from './workload';

async function main(): Promise<void> {
  const settings = childSettings<TesterSettings>();
  const workload = buildWorkload(settings.workload);
  const socket = await openSession(
    settings.daemon,
    {
      asNumber: settings.workload.testerAs,
      routerId: settings.routerId,
      localAddress: settings.localAddress,
    },
    () => {}, // what the daemon sends back (reflections, its own routes) is not the tester's business
    (reason) => tell({ type: 'failed', reason: `tester session: ${reason}` }),
  );
  process.on('message', (message: RunnerMessage) => {
    if (message.type !== 'go') return;
    const start = now();
    socket.write(workload.bytes, () => tell({ type: 'sent', start, end: now() }));
  });
  tell({ type: 'ready', updates: workload.updates, bytes: workload.bytes.length });
}

void main();
