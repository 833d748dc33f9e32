// The RFC 4271 §8.2.2 state machine as a pure function: (snapshot, event) → (snapshot, actions).
// No I/O and no clocks here; `Fsm` (machine.ts) runs the timers and hands the other actions to
// the session. "Release resources" is the peer's reaction to leaving Established (it tells the
// RIB), so it is no action here. DelayOpen and collision detection in Established are not modelled.

import { CeaseSubcode, ErrorCode, FsmSubcode } from '../packet/constants';
import { ceaseNotification, type Notification, notification } from '../packet/notification';

export const FsmState = {
  Idle: 'Idle',
  Connect: 'Connect',
  Active: 'Active',
  OpenSent: 'OpenSent',
  OpenConfirm: 'OpenConfirm',
  Established: 'Established',
} as const;
export type FsmState = (typeof FsmState)[keyof typeof FsmState];

export type TimerName = 'connectRetry' | 'hold' | 'keepalive';

/** The events of RFC 4271 §8.1 that margay generates (TCP_CR_Acked and TcpConnectionConfirmed are one). */
export type FsmEvent =
  | { readonly type: 'ManualStart' }
  | { readonly type: 'ManualStartPassive' }
  | { readonly type: 'AutomaticStart' }
  | { readonly type: 'AutomaticStartPassive' }
  /** Operator stop; a connected peer gets Cease with `ceaseSubcode` (default Administrative Shutdown). */
  | { readonly type: 'ManualStop'; readonly ceaseSubcode?: number }
  /** Stop for a local reason other than the operator (e.g. too many prefixes): sends `notification`. */
  | { readonly type: 'AutomaticStop'; readonly notification: Notification }
  | { readonly type: 'ConnectRetryTimerExpires' }
  | { readonly type: 'HoldTimerExpires' }
  | { readonly type: 'KeepaliveTimerExpires' }
  | { readonly type: 'TcpConnectionConfirmed' }
  | { readonly type: 'TcpConnectionFails' }
  /** A valid OPEN; `holdTime` is the negotiated hold time in seconds (0: no keepalives). */
  | { readonly type: 'BGPOpen'; readonly holdTime: number }
  | { readonly type: 'BGPHeaderErr'; readonly notification: Notification }
  | { readonly type: 'BGPOpenMsgErr'; readonly notification: Notification }
  | { readonly type: 'OpenCollisionDump' }
  | { readonly type: 'NotifMsgVerErr' }
  | { readonly type: 'NotifMsg' }
  | { readonly type: 'KeepAliveMsg' }
  | { readonly type: 'UpdateMsg' }
  | { readonly type: 'UpdateMsgErr'; readonly notification: Notification }
  /** A malformed ROUTE-REFRESH (RFC 7313 §5). */
  | { readonly type: 'RouteRefreshMsgErr'; readonly notification: Notification }
  | { readonly type: 'RouteRefreshMsg' };

export type FsmAction =
  | { readonly type: 'connect' }
  | { readonly type: 'drop' }
  | { readonly type: 'send-open' }
  | { readonly type: 'send-keepalive' }
  | { readonly type: 'send-notification'; readonly notification: Notification }
  | { readonly type: 'start-timer'; readonly timer: TimerName; readonly seconds: number }
  | { readonly type: 'stop-timer'; readonly timer: TimerName }
  /** The session failed: restart it automatically after the (damped) idle hold time. */
  | { readonly type: 'schedule-restart' };

export interface FsmSnapshot {
  readonly state: FsmState;
  readonly connectRetryCounter: number;
  /** Started passively: wait for the peer to connect instead of connecting. */
  readonly passive: boolean;
  /** The negotiated hold time in seconds, once an OPEN was accepted. */
  readonly holdTime: number;
}

export interface FsmTimings {
  /** ConnectRetryTime in seconds (RFC 4271 suggests 120). */
  readonly connectRetryTime: number;
}

export interface Transition {
  readonly snapshot: FsmSnapshot;
  readonly actions: readonly FsmAction[];
}

export const INITIAL_SNAPSHOT: FsmSnapshot = {
  state: FsmState.Idle,
  connectRetryCounter: 0,
  passive: false,
  holdTime: 0,
};

/** RFC 4271 §8.2.2: the hold timer while waiting for the peer's OPEN ("4 minutes is suggested"). */
export const LARGE_HOLD_TIME = 240;

const UNEXPECTED_SUBCODE: Partial<Record<FsmState, number>> = {
  OpenSent: FsmSubcode.UnexpectedMessageInOpenSent,
  OpenConfirm: FsmSubcode.UnexpectedMessageInOpenConfirm,
  Established: FsmSubcode.UnexpectedMessageInEstablished,
};

/** Keepalive interval for a negotiated hold time: a third of it (RFC 4271 §10), at least a second. */
export function keepaliveTime(holdTime: number): number {
  return Math.max(1, Math.floor(holdTime / 3));
}

export function transition(s: FsmSnapshot, event: FsmEvent, timings: FsmTimings): Transition {
  switch (s.state) {
    case FsmState.Idle:
      return idle(s, event, timings);
    case FsmState.Connect:
    case FsmState.Active:
      return connecting(s, event, timings);
    default:
      return opened(s, event, timings);
  }
}

const stay = (s: FsmSnapshot, ...actions: FsmAction[]): Transition => ({ snapshot: s, actions });
const startTimer = (timer: TimerName, seconds: number): FsmAction => ({
  type: 'start-timer',
  timer,
  seconds,
});
const stopTimer = (timer: TimerName): FsmAction => ({ type: 'stop-timer', timer });
const send = (n: Notification): FsmAction => ({ type: 'send-notification', notification: n });
const STOP_ALL_TIMERS: readonly FsmAction[] = [
  stopTimer('connectRetry'),
  stopTimer('hold'),
  stopTimer('keepalive'),
];

/** To Idle after an operator stop: the counter resets and nothing restarts. */
function stopped(s: FsmSnapshot, ...first: FsmAction[]): Transition {
  return {
    snapshot: { ...s, state: FsmState.Idle, connectRetryCounter: 0 },
    actions: [...first, ...STOP_ALL_TIMERS, { type: 'drop' }],
  };
}

/** To Idle after a failure; restarts later. `count` bumps ConnectRetryCounter, as most failures do. */
function failed(s: FsmSnapshot, count: boolean, ...first: FsmAction[]): Transition {
  return {
    snapshot: {
      ...s,
      state: FsmState.Idle,
      connectRetryCounter: s.connectRetryCounter + (count ? 1 : 0),
    },
    actions: [...first, ...STOP_ALL_TIMERS, { type: 'drop' }, { type: 'schedule-restart' }],
  };
}

function idle(s: FsmSnapshot, event: FsmEvent, t: FsmTimings): Transition {
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
      return {
        snapshot: {
          ...s,
          state: FsmState.Connect,
          passive: false,
          connectRetryCounter: event.type === 'ManualStart' ? 0 : s.connectRetryCounter,
        },
        actions: [startTimer('connectRetry', t.connectRetryTime), { type: 'connect' }],
      };
    case 'ManualStartPassive':
    case 'AutomaticStartPassive':
      return {
        snapshot: {
          ...s,
          state: FsmState.Active,
          passive: true,
          connectRetryCounter: event.type === 'ManualStartPassive' ? 0 : s.connectRetryCounter,
        },
        actions: [startTimer('connectRetry', t.connectRetryTime)],
      };
    default:
      // RFC 4271: every other event leaves Idle untouched.
      return stay(s);
  }
}

/** Connect and Active: no connection yet (Connect has an attempt outstanding). */
function connecting(s: FsmSnapshot, event: FsmEvent, t: FsmTimings): Transition {
  switch (event.type) {
    case 'ManualStart':
    case 'ManualStartPassive':
    case 'AutomaticStart':
    case 'AutomaticStartPassive':
      return stay(s);
    case 'ManualStop':
      return stopped(s);
    case 'ConnectRetryTimerExpires':
      if (s.passive) return stay(s, startTimer('connectRetry', t.connectRetryTime));
      return {
        snapshot: { ...s, state: FsmState.Connect },
        actions: [{ type: 'drop' }, startTimer('connectRetry', t.connectRetryTime), { type: 'connect' }],
      };
    case 'TcpConnectionConfirmed':
      return {
        snapshot: { ...s, state: FsmState.OpenSent },
        actions: [stopTimer('connectRetry'), { type: 'send-open' }, startTimer('hold', LARGE_HOLD_TIME)],
      };
    case 'TcpConnectionFails':
      // Connect (without DelayOpen) leaves the counter alone; Active counts the failure.
      return failed(s, s.state === FsmState.Active);
    default:
      return failed(s, true);
  }
}

/** OpenSent, OpenConfirm and Established: a connection is up. */
function opened(s: FsmSnapshot, event: FsmEvent, t: FsmTimings): Transition {
  const unexpected = (): Transition =>
    failed(s, true, send(notification(ErrorCode.FiniteStateMachine, UNEXPECTED_SUBCODE[s.state] ?? 0)));
  switch (event.type) {
    case 'ManualStart':
    case 'ManualStartPassive':
    case 'AutomaticStart':
    case 'AutomaticStartPassive':
      return stay(s);
    case 'ManualStop':
      return stopped(s, send(ceaseNotification(event.ceaseSubcode ?? CeaseSubcode.AdministrativeShutdown)));
    case 'AutomaticStop':
      return failed(s, true, send(event.notification));
    case 'HoldTimerExpires':
      return failed(s, true, send(notification(ErrorCode.HoldTimerExpired, 0)));
    case 'BGPHeaderErr':
    case 'BGPOpenMsgErr':
    case 'UpdateMsgErr':
    case 'RouteRefreshMsgErr':
      if (
        event.type !== 'BGPHeaderErr' &&
        event.type !== 'BGPOpenMsgErr' &&
        s.state !== FsmState.Established
      ) {
        return unexpected();
      }
      return failed(s, true, send(event.notification));
    case 'OpenCollisionDump':
      return failed(s, true, send(ceaseNotification(CeaseSubcode.ConnectionCollisionResolution)));
    case 'NotifMsgVerErr':
      return failed(s, false);
    case 'NotifMsg':
      // RFC 4271 answers a NOTIFICATION in OpenSent with an FSM error; §6.4 forbids replying to a
      // NOTIFICATION, and so do BIRD and GoBGP: we only close.
      return failed(s, true);
    case 'TcpConnectionFails':
      if (s.state === FsmState.OpenSent) {
        // RFC 4271: keep listening for the peer in Active.
        return {
          snapshot: { ...s, state: FsmState.Active },
          actions: [{ type: 'drop' }, stopTimer('hold'), startTimer('connectRetry', t.connectRetryTime)],
        };
      }
      return failed(s, true);
    case 'BGPOpen':
      if (s.state !== FsmState.OpenSent) return unexpected();
      return {
        snapshot: { ...s, state: FsmState.OpenConfirm, holdTime: event.holdTime },
        actions: [
          stopTimer('connectRetry'),
          { type: 'send-keepalive' },
          ...(event.holdTime > 0
            ? [startTimer('keepalive', keepaliveTime(event.holdTime)), startTimer('hold', event.holdTime)]
            : [stopTimer('hold')]),
        ],
      };
    case 'KeepaliveTimerExpires':
      if (s.state === FsmState.OpenSent) return unexpected();
      return stay(s, { type: 'send-keepalive' }, startTimer('keepalive', keepaliveTime(s.holdTime)));
    case 'KeepAliveMsg':
      if (s.state === FsmState.OpenSent) return unexpected();
      return {
        snapshot: { ...s, state: FsmState.Established },
        actions: s.holdTime > 0 ? [startTimer('hold', s.holdTime)] : [],
      };
    case 'UpdateMsg':
      if (s.state !== FsmState.Established) return unexpected();
      return stay(s, ...(s.holdTime > 0 ? [startTimer('hold', s.holdTime)] : []));
    case 'RouteRefreshMsg':
      if (s.state !== FsmState.Established) return unexpected();
      return stay(s);
    default:
      // ConnectRetryTimerExpires, TcpConnectionConfirmed.
      return unexpected();
  }
}
