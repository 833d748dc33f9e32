// The benchmark's side of a felix process (felix-process.ts): starts it inside the namespace it
// programs (`ip netns exec`, so its commands run there directly, as felix's do on a node) with the
// node flags under test, sends it commands and waits for its reports, and never lets it outlive
// the benchmark.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { stopProcess, track } from '../bench/children';
import type { BenchMessage, FelixProcessMessage, FelixProcessSettings } from './protocol';

type Waiter = () => void;

const STOP_TIMEOUT_MS = 10_000;

export class FelixChild {
  private readonly process: ChildProcess;
  private readonly received: FelixProcessMessage[] = [];
  private readonly waiters = new Set<Waiter>();
  private ended: string | undefined;

  constructor(netns: string, settings: FelixProcessSettings, nodeFlags: readonly string[]) {
    const script = join(__dirname, 'felix-process.js');
    const argv = ['netns', 'exec', netns, process.execPath, ...nodeFlags, script, JSON.stringify(settings)];
    // `ip` execs node in place: the pid, the IPC channel (fd 3) and the kill all reach felix.
    this.process = spawn('ip', argv, { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    track(this.process);
    this.process.on('message', (message: FelixProcessMessage) => {
      this.received.push(message);
      this.wakeAll();
    });
    this.process.on('exit', (code, signal) => {
      this.ended = `the felix process exited (${signal ?? `code ${code}`})`;
      this.wakeAll();
    });
  }

  send(message: BenchMessage): void {
    this.process.send(message);
  }

  /**
   * Takes the first message (received or to come) that `matches`; rejects when felix reports a
   * failure, exits, or `timeoutMs` passes, naming `what` was awaited.
   */
  async take<T extends FelixProcessMessage>(
    matches: (message: FelixProcessMessage) => message is T,
    timeoutMs: number,
    what: string,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failed = this.received.find((message) => message.type === 'failed');
      if (failed?.type === 'failed') throw new Error(`felix failed: ${failed.reason}`);
      const index = this.received.findIndex(matches);
      if (index >= 0) return this.received.splice(index, 1)[0] as T;
      if (this.ended !== undefined) throw new Error(`${this.ended} while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }

  /** Stops felix (it leaves its rules programmed) and waits for the process to exit. */
  async stop(): Promise<void> {
    if (this.ended === undefined && this.process.connected) {
      const exited = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
        this.process.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.send({ type: 'stop' });
      await exited;
    }
    // Kills it if it did not stop in time.
    await stopProcess(this.process);
  }

  private wakeAll(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Type guards for `take`. */
export const is =
  <K extends FelixProcessMessage['type']>(type: K) =>
  (message: FelixProcessMessage): message is Extract<FelixProcessMessage, { type: K }> =>
    message.type === type;
