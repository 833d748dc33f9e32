// Time as the FSM sees it. Injected so tests can drive the BGP timers deterministically.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds on a monotonic scale. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds unless cancelled first. */
  schedule(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    // A pending BGP timer alone must not keep the process alive.
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/** A clock that moves only when told to: `advance` fires due timers in deadline order. */
export class ManualClock implements Clock {
  private current = 0;
  private sequence = 0;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.current;
  }

  schedule(ms: number, fn: () => void): TimerHandle {
    const id = this.sequence++;
    this.pending.set(id, { at: this.current + Math.max(0, ms), fn });
    return { cancel: () => this.pending.delete(id) };
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way (timers may schedule timers). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let nextId = -1;
      let nextAt = Number.POSITIVE_INFINITY;
      for (const [id, timer] of this.pending) {
        if (timer.at <= target && timer.at < nextAt) {
          nextId = id;
          nextAt = timer.at;
        }
      }
      if (nextId < 0) break;
      const timer = this.pending.get(nextId)!;
      this.pending.delete(nextId);
      this.current = timer.at;
      timer.fn();
    }
    this.current = target;
  }

  /** How many timers are waiting. */
  get pendingCount(): number {
    return this.pending.size;
  }
}
