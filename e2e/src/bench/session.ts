// Just enough of a BGP speaker for the harness: connect (retrying while the daemon starts),
// exchange OPEN and KEEPALIVE, keep the session alive, and hand every UPDATE received to a
// callback, one batch per socket read. No FSM, no table: the harness must cost next to nothing.

import { connect, type Socket } from 'node:net';
import {
  Afi,
  decodeNotification,
  decodeOpen,
  describeNotification,
  encodeKeepalive,
  encodeOpen,
  MessageFramer,
  MessageType,
  parseIpv4,
  Safi,
} from '@margay/bgp';

export interface SessionSpec {
  asNumber: number;
  routerId: string;
  /** The address this side binds, so the daemon recognises the peer. */
  localAddress: string;
}

/** Whole UPDATE messages (header included), in the order received. */
export type UpdateHandler = (updates: Buffer[]) => void;

const HOLD_TIME = 240;
const CONNECT_TIMEOUT_MS = 30_000;

function openFor(spec: SessionSpec): Buffer {
  return encodeOpen({
    asn: spec.asNumber,
    holdTime: HOLD_TIME,
    bgpId: parseIpv4(spec.routerId),
    capabilities: { fourOctetAs: spec.asNumber, multiprotocol: [{ afi: Afi.Ipv4, safi: Safi.Unicast }] },
  });
}

/**
 * Runs a session on a connected socket: resolves once it is Established. Afterwards UPDATEs go to
 * `onUpdates`; a NOTIFICATION or a broken stream goes to `onFailure`.
 */
export function runSession(
  socket: Socket,
  spec: SessionSpec,
  onUpdates: UpdateHandler,
  onFailure: (reason: string) => void,
): Promise<void> {
  const framer = new MessageFramer();
  let keepalives: NodeJS.Timeout | undefined;
  let established = false;
  let failed = false;
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      if (failed) return;
      failed = true;
      clearInterval(keepalives);
      socket.destroy();
      if (established) onFailure(reason);
      else reject(new Error(reason));
    };
    socket.setNoDelay(true);
    socket.write(openFor(spec));
    socket.on('error', (error) => fail(`socket error: ${error.message}`));
    socket.on('close', () => fail('the peer closed the connection'));
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      const updates: Buffer[] = [];
      for (let frame = framer.next(); frame; frame = framer.next()) {
        if (frame.kind === 'error') return fail(`bad message: ${frame.reason}`);
        if (frame.type === MessageType.Update) updates.push(frame.message);
        else if (frame.type === MessageType.Notification) {
          const notification = decodeNotification(frame.body);
          return fail(
            `NOTIFICATION received: ${notification ? describeNotification(notification) : 'undecodable'}`,
          );
        } else if (frame.type === MessageType.Open) {
          const result = decodeOpen(frame.body);
          if (!result.ok) return fail(`bad OPEN: ${result.reason}`);
          socket.write(encodeKeepalive());
          const hold = Math.min(HOLD_TIME, result.open.holdTime);
          if (hold > 0) keepalives = setInterval(() => socket.write(encodeKeepalive()), (hold * 1000) / 3);
        } else if (frame.type === MessageType.Keepalive && !established) {
          established = true;
          resolve();
        }
      }
      if (updates.length > 0) onUpdates(updates);
    });
  });
}

/** Connects from `spec.localAddress` to the daemon, retrying until it listens, and runs the session. */
export async function openSession(
  daemon: { address: string; port: number },
  spec: SessionSpec,
  onUpdates: UpdateHandler,
  onFailure: (reason: string) => void,
): Promise<Socket> {
  const deadline = Date.now() + CONNECT_TIMEOUT_MS;
  for (;;) {
    const socket = connect({ host: daemon.address, port: daemon.port, localAddress: spec.localAddress });
    try {
      await runSession(socket, spec, onUpdates, onFailure);
      return socket;
    } catch (error) {
      socket.destroy();
      if (Date.now() > deadline)
        throw new Error(
          `no BGP session from ${spec.localAddress} to ${daemon.address}:${daemon.port}: ${(error as Error).message}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
