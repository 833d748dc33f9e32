// The send path of one connection. Messages written during one tick of the event loop go to
// the socket together, corked into one writev (one syscall for thousands of UPDATEs); while the
// socket has not drained, nothing more is handed to it and callers learn to wait through
// `drained()`. Buffers are handed as they are, never concatenated: an update group sends the
// same Buffer to every member, and a copy per connection would hold one per member at once.

import type { Socket } from 'node:net';

/** Queued bytes beyond which `write` asks the caller to wait for `drained()`. */
const HIGH_WATER_MARK = 1 << 20;

export class MessageWriter {
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private waitingForDrain = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly socket: Socket) {
    socket.on('drain', () => {
      this.waitingForDrain = false;
      this.flush();
    });
    // Nobody may wait forever on a connection that is gone.
    socket.once('close', () => this.release());
  }

  /** Queues whole messages. Returns false once the caller should wait for `drained()`. */
  write(messages: Buffer): boolean {
    this.queue.push(messages);
    this.queuedBytes += messages.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    return !this.congested();
  }

  /** Resolves once queued bytes are back under the high-water mark (at once if they are). */
  drained(): Promise<void> {
    if (!this.congested()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Hands everything queued to the socket now and half-closes it. */
  end(): void {
    this.hand();
    this.socket.end();
    this.release();
  }

  private congested(): boolean {
    return this.queuedBytes + this.socket.writableLength > HIGH_WATER_MARK;
  }

  private flush(): void {
    if (this.waitingForDrain || this.socket.destroyed) return;
    if (this.queue.length > 0) this.waitingForDrain = !this.hand();
    if (!this.congested()) this.release();
  }

  /** Writes the queue in one writev; false when the socket buffers above its own mark. */
  private hand(): boolean {
    if (this.queue.length === 0 || !this.socket.writable) return true;
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (queue.length === 1) return this.socket.write(queue[0]!);
    this.socket.cork();
    let room = true;
    for (const chunk of queue) room = this.socket.write(chunk);
    this.socket.uncork();
    return room;
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
