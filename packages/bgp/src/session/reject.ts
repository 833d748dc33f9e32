// Turning away a TCP connection with a Cease NOTIFICATION (RFC 4486) before closing it.

import type { Socket } from 'node:net';
import { ceaseNotification, encodeNotification } from '../packet/notification';

/** How long a rejected peer gets to read the NOTIFICATION and close its side. */
const LINGER_MS = 2000;

export function rejectConnection(socket: Socket, ceaseSubcode: number): void {
  socket.on('error', () => {});
  socket.end(encodeNotification(ceaseNotification(ceaseSubcode)));
  closeSoon(socket);
}

/** Destroys a half-closed socket if the peer does not close its side in time. */
export function closeSoon(socket: Socket): void {
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
