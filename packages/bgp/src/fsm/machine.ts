// Runs the pure transition function: owns the snapshot, the three RFC 4271 timers and the idle
// hold timer that restarts a failed session with exponential backoff (BIRD's "error wait time").
// Actions other than timers go to the session through `FsmHandler`.

import type { Clock, TimerHandle } from './clock';
import {
  type FsmAction,
  type FsmEvent,
  type FsmSnapshot,
  type FsmState,
  INITIAL_SNAPSHOT,
  type TimerName,
  transition,
} from './transitions';

export interface FsmConfig {
  /** Wait for the peer to connect; automatic restarts then stay passive. */
  readonly passive: boolean;
  /** Seconds between connection attempts (RFC 4271 suggests 120). */
  readonly connectRetryTime: number;
  /** Delay before the first automatic restart after a failure, in seconds. */
  readonly idleHoldTime: number;
  /** The restart delay doubles on each failure up to this many seconds. */
  readonly maxIdleHoldTime: number;
  /** A failure this many seconds after the previous one starts the backoff over. */
  readonly errorForgetTime: number;
}

export const DEFAULT_FSM_CONFIG: FsmConfig = {
  passive: false,
  connectRetryTime: 120,
  idleHoldTime: 5,
  maxIdleHoldTime: 120,
  errorForgetTime: 300,
};

/** The FSM's non-timer actions, carried out by the session. */
export type SessionAction = Exclude<FsmAction, { type: 'start-timer' | 'stop-timer' | 'schedule-restart' }>;

export interface FsmHandler {
  perform(action: SessionAction): void;
  stateChanged(from: FsmState, to: FsmState, event: FsmEvent): void;
}

const TIMER_EVENT: Record<TimerName, FsmEvent> = {
  connectRetry: { type: 'ConnectRetryTimerExpires' },
  hold: { type: 'HoldTimerExpires' },
  keepalive: { type: 'KeepaliveTimerExpires' },
};

export class Fsm {
  private current: FsmSnapshot = INITIAL_SNAPSHOT;
  private readonly timers = new Map<TimerName, TimerHandle>();
  private restartTimer: TimerHandle | null = null;
  private restartDelay = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;
  /** Events raised while one is being handled (e.g. by a failing write) wait their turn. */
  private readonly queue: FsmEvent[] = [];
  private running = false;
  private disposed = false;

  constructor(
    private readonly config: FsmConfig,
    private readonly clock: Clock,
    private readonly handler: FsmHandler,
  ) {}

  get state(): FsmState {
    return this.current.state;
  }

  get snapshot(): FsmSnapshot {
    return this.current;
  }

  /** Seconds until the pending automatic restart, or null when none is pending. */
  get pendingRestartDelay(): number | null {
    return this.restartTimer ? this.restartDelay : null;
  }

  dispatch(event: FsmEvent): void {
    if (this.disposed) return;
    this.queue.push(event);
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next && !this.disposed; next = this.queue.shift()) this.step(next);
    } finally {
      this.running = false;
      this.queue.length = 0;
    }
  }

  /** Cancels every timer; later events are ignored. For a connection that lost a collision. */
  dispose(): void {
    this.disposed = true;
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
    this.cancelRestart();
  }

  private step(event: FsmEvent): void {
    if (event.type === 'ManualStop' || event.type === 'ManualStart' || event.type === 'ManualStartPassive') {
      this.cancelRestart();
    }
    const from = this.current.state;
    const { snapshot, actions } = transition(this.current, event, this.config);
    this.current = snapshot;
    for (const action of actions) this.apply(action);
    if (snapshot.state !== from) this.handler.stateChanged(from, snapshot.state, event);
  }

  private apply(action: FsmAction): void {
    switch (action.type) {
      case 'start-timer':
        this.startTimer(action.timer, action.seconds);
        return;
      case 'stop-timer':
        this.timers.get(action.timer)?.cancel();
        this.timers.delete(action.timer);
        return;
      case 'schedule-restart':
        this.scheduleRestart();
        return;
      default:
        this.handler.perform(action);
    }
  }

  private startTimer(timer: TimerName, seconds: number): void {
    this.timers.get(timer)?.cancel();
    this.timers.set(
      timer,
      this.clock.schedule(seconds * 1000, () => {
        this.timers.delete(timer);
        this.dispatch(TIMER_EVENT[timer]);
      }),
    );
  }

  private scheduleRestart(): void {
    const now = this.clock.now();
    const { idleHoldTime, maxIdleHoldTime, errorForgetTime } = this.config;
    const forgotten = now - this.lastFailureAt > errorForgetTime * 1000;
    this.restartDelay = forgotten ? idleHoldTime : Math.min(this.restartDelay * 2, maxIdleHoldTime);
    this.lastFailureAt = now;
    this.cancelRestart();
    const passive = this.config.passive;
    this.restartTimer = this.clock.schedule(this.restartDelay * 1000, () => {
      this.restartTimer = null;
      this.dispatch({ type: passive ? 'AutomaticStartPassive' : 'AutomaticStart' });
    });
  }

  private cancelRestart(): void {
    this.restartTimer?.cancel();
    this.restartTimer = null;
  }
}
