// The harness-ceiling target: a process in the daemon's place that completes the BGP handshakes
// and then forwards the tester's UPDATE bytes to every monitor session untouched — no decoding,
// no table. What it achieves is the most any daemon could show through this harness.

import { createServer, type Socket } from 'node:net';
import { childSettings, type RelaySettings, tell } from './ipc';
import { runSession } from './session';

function main(): void {
  const settings = childSettings<RelaySettings>();
  const monitors: Socket[] = [];
  const spec = { asNumber: settings.asNumber, routerId: '10.255.2.1', localAddress: settings.listen.address };
  const forward = (updates: Buffer[]) => {
    const bytes = updates.length === 1 ? updates[0]! : Buffer.concat(updates);
    for (const monitor of monitors) monitor.write(bytes);
  };
  const server = createServer((socket) => {
    const remote = socket.remoteAddress ?? '';
    const isTester = remote === settings.testerAddress;
    if (!isTester && !settings.monitorAddresses.includes(remote)) {
      socket.destroy();
      return;
    }
    const onFailure = (reason: string) =>
      tell({ type: 'failed', reason: `relay session ${remote}: ${reason}` });
    runSession(socket, spec, isTester ? forward : () => {}, onFailure).then(
      () => {
        if (!isTester) monitors.push(socket);
      },
      (error: Error) => onFailure(error.message),
    );
  });
  server.listen(settings.listen.port, settings.listen.address, () => tell({ type: 'ready' }));
}

main();
