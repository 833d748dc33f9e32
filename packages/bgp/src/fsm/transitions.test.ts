import { CeaseSubcode, ErrorCode, FsmSubcode, OpenSubcode } from '../packet/constants';
import { notification } from '../packet/notification';
import {
  type FsmAction,
  type FsmEvent,
  type FsmSnapshot,
  type FsmState,
  INITIAL_SNAPSHOT,
  keepaliveTime,
  LARGE_HOLD_TIME,
  transition,
} from './transitions';

const timings = { connectRetryTime: 30 };
const at = (state: FsmState, extra: Partial<FsmSnapshot> = {}): FsmSnapshot => ({
  ...INITIAL_SNAPSHOT,
  state,
  connectRetryCounter: 2,
  holdTime: 90,
  ...extra,
});
const BAD_AS = notification(ErrorCode.OpenMessage, OpenSubcode.BadPeerAs);

/** A compact rendering of the actions so the table below reads like RFC 4271 §8.2.2. */
function render(actions: readonly FsmAction[]): string[] {
  return actions.map((a) => {
    switch (a.type) {
      case 'start-timer':
        return `start ${a.timer} ${a.seconds}`;
      case 'stop-timer':
        return `stop ${a.timer}`;
      case 'send-notification':
        return `notify ${a.notification.code}/${a.notification.subcode}`;
      default:
        return a.type;
    }
  });
}

const TO_IDLE = ['stop connectRetry', 'stop hold', 'stop keepalive', 'drop'];
const FAIL = [...TO_IDLE, 'schedule-restart'];
const notify = (code: number, subcode: number): string => `notify ${code}/${subcode}`;
const fsmError = (subcode: number): string[] => [notify(ErrorCode.FiniteStateMachine, subcode), ...FAIL];

interface Row {
  from: FsmState;
  event: FsmEvent;
  to: FsmState;
  actions: string[];
  /** The ConnectRetryCounter afterwards (starts at 2). */
  counter: number;
  passive?: boolean;
}

const rows: Row[] = [
  // Idle
  {
    from: 'Idle',
    event: { type: 'ManualStart' },
    to: 'Connect',
    actions: ['start connectRetry 30', 'connect'],
    counter: 0,
  },
  {
    from: 'Idle',
    event: { type: 'AutomaticStart' },
    to: 'Connect',
    actions: ['start connectRetry 30', 'connect'],
    counter: 2,
  },
  {
    from: 'Idle',
    event: { type: 'ManualStartPassive' },
    to: 'Active',
    actions: ['start connectRetry 30'],
    counter: 0,
  },
  {
    from: 'Idle',
    event: { type: 'AutomaticStartPassive' },
    to: 'Active',
    actions: ['start connectRetry 30'],
    counter: 2,
  },
  { from: 'Idle', event: { type: 'ManualStop' }, to: 'Idle', actions: [], counter: 2 },
  { from: 'Idle', event: { type: 'TcpConnectionFails' }, to: 'Idle', actions: [], counter: 2 },
  { from: 'Idle', event: { type: 'KeepAliveMsg' }, to: 'Idle', actions: [], counter: 2 },
  // Connect
  { from: 'Connect', event: { type: 'ManualStart' }, to: 'Connect', actions: [], counter: 2 },
  { from: 'Connect', event: { type: 'ManualStop' }, to: 'Idle', actions: TO_IDLE, counter: 0 },
  {
    from: 'Connect',
    event: { type: 'ConnectRetryTimerExpires' },
    to: 'Connect',
    actions: ['drop', 'start connectRetry 30', 'connect'],
    counter: 2,
  },
  {
    from: 'Connect',
    event: { type: 'TcpConnectionConfirmed' },
    to: 'OpenSent',
    actions: ['stop connectRetry', 'send-open', `start hold ${LARGE_HOLD_TIME}`],
    counter: 2,
  },
  { from: 'Connect', event: { type: 'TcpConnectionFails' }, to: 'Idle', actions: FAIL, counter: 2 },
  { from: 'Connect', event: { type: 'BGPOpen', holdTime: 90 }, to: 'Idle', actions: FAIL, counter: 3 },
  { from: 'Connect', event: { type: 'HoldTimerExpires' }, to: 'Idle', actions: FAIL, counter: 3 },
  { from: 'Connect', event: { type: 'NotifMsg' }, to: 'Idle', actions: FAIL, counter: 3 },
  // Active
  { from: 'Active', event: { type: 'ManualStop' }, to: 'Idle', actions: TO_IDLE, counter: 0 },
  {
    from: 'Active',
    event: { type: 'ConnectRetryTimerExpires' },
    to: 'Connect',
    actions: ['drop', 'start connectRetry 30', 'connect'],
    counter: 2,
  },
  {
    from: 'Active',
    passive: true,
    event: { type: 'ConnectRetryTimerExpires' },
    to: 'Active',
    actions: ['start connectRetry 30'],
    counter: 2,
  },
  {
    from: 'Active',
    event: { type: 'TcpConnectionConfirmed' },
    to: 'OpenSent',
    actions: ['stop connectRetry', 'send-open', `start hold ${LARGE_HOLD_TIME}`],
    counter: 2,
  },
  { from: 'Active', event: { type: 'TcpConnectionFails' }, to: 'Idle', actions: FAIL, counter: 3 },
  { from: 'Active', event: { type: 'UpdateMsg' }, to: 'Idle', actions: FAIL, counter: 3 },
  // OpenSent
  {
    from: 'OpenSent',
    event: { type: 'ManualStop' },
    to: 'Idle',
    actions: [notify(ErrorCode.Cease, CeaseSubcode.AdministrativeShutdown), ...TO_IDLE],
    counter: 0,
  },
  {
    from: 'OpenSent',
    event: { type: 'AutomaticStop', notification: notification(ErrorCode.Cease, 1) },
    to: 'Idle',
    actions: [notify(ErrorCode.Cease, 1), ...FAIL],
    counter: 3,
  },
  {
    from: 'OpenSent',
    event: { type: 'HoldTimerExpires' },
    to: 'Idle',
    actions: [notify(ErrorCode.HoldTimerExpired, 0), ...FAIL],
    counter: 3,
  },
  {
    from: 'OpenSent',
    event: { type: 'TcpConnectionFails' },
    to: 'Active',
    actions: ['drop', 'stop hold', 'start connectRetry 30'],
    counter: 2,
  },
  {
    from: 'OpenSent',
    event: { type: 'BGPOpen', holdTime: 90 },
    to: 'OpenConfirm',
    actions: ['stop connectRetry', 'send-keepalive', 'start keepalive 30', 'start hold 90'],
    counter: 2,
  },
  {
    from: 'OpenSent',
    event: { type: 'BGPOpen', holdTime: 0 },
    to: 'OpenConfirm',
    actions: ['stop connectRetry', 'send-keepalive', 'stop hold'],
    counter: 2,
  },
  {
    from: 'OpenSent',
    event: { type: 'BGPOpenMsgErr', notification: BAD_AS },
    to: 'Idle',
    actions: [notify(ErrorCode.OpenMessage, OpenSubcode.BadPeerAs), ...FAIL],
    counter: 3,
  },
  {
    from: 'OpenSent',
    event: { type: 'BGPHeaderErr', notification: notification(ErrorCode.MessageHeader, 2) },
    to: 'Idle',
    actions: [notify(ErrorCode.MessageHeader, 2), ...FAIL],
    counter: 3,
  },
  {
    from: 'OpenSent',
    event: { type: 'OpenCollisionDump' },
    to: 'Idle',
    actions: [notify(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution), ...FAIL],
    counter: 3,
  },
  { from: 'OpenSent', event: { type: 'NotifMsgVerErr' }, to: 'Idle', actions: FAIL, counter: 2 },
  { from: 'OpenSent', event: { type: 'NotifMsg' }, to: 'Idle', actions: FAIL, counter: 3 },
  {
    from: 'OpenSent',
    event: { type: 'KeepAliveMsg' },
    to: 'Idle',
    actions: fsmError(FsmSubcode.UnexpectedMessageInOpenSent),
    counter: 3,
  },
  {
    from: 'OpenSent',
    event: { type: 'UpdateMsg' },
    to: 'Idle',
    actions: fsmError(FsmSubcode.UnexpectedMessageInOpenSent),
    counter: 3,
  },
  {
    from: 'OpenSent',
    event: { type: 'ConnectRetryTimerExpires' },
    to: 'Idle',
    actions: fsmError(FsmSubcode.UnexpectedMessageInOpenSent),
    counter: 3,
  },
  // OpenConfirm
  {
    from: 'OpenConfirm',
    event: { type: 'ManualStop' },
    to: 'Idle',
    actions: [notify(ErrorCode.Cease, CeaseSubcode.AdministrativeShutdown), ...TO_IDLE],
    counter: 0,
  },
  {
    from: 'OpenConfirm',
    event: { type: 'HoldTimerExpires' },
    to: 'Idle',
    actions: [notify(ErrorCode.HoldTimerExpired, 0), ...FAIL],
    counter: 3,
  },
  {
    from: 'OpenConfirm',
    event: { type: 'KeepaliveTimerExpires' },
    to: 'OpenConfirm',
    actions: ['send-keepalive', 'start keepalive 30'],
    counter: 2,
  },
  { from: 'OpenConfirm', event: { type: 'TcpConnectionFails' }, to: 'Idle', actions: FAIL, counter: 3 },
  { from: 'OpenConfirm', event: { type: 'NotifMsg' }, to: 'Idle', actions: FAIL, counter: 3 },
  { from: 'OpenConfirm', event: { type: 'NotifMsgVerErr' }, to: 'Idle', actions: FAIL, counter: 2 },
  {
    from: 'OpenConfirm',
    event: { type: 'OpenCollisionDump' },
    to: 'Idle',
    actions: [notify(ErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution), ...FAIL],
    counter: 3,
  },
  {
    from: 'OpenConfirm',
    event: { type: 'KeepAliveMsg' },
    to: 'Established',
    actions: ['start hold 90'],
    counter: 2,
  },
  {
    from: 'OpenConfirm',
    event: { type: 'UpdateMsg' },
    to: 'Idle',
    actions: fsmError(FsmSubcode.UnexpectedMessageInOpenConfirm),
    counter: 3,
  },
  {
    from: 'OpenConfirm',
    event: { type: 'BGPOpen', holdTime: 90 },
    to: 'Idle',
    actions: fsmError(FsmSubcode.UnexpectedMessageInOpenConfirm),
    counter: 3,
  },
  // Established
  {
    from: 'Established',
    event: { type: 'ManualStop' },
    to: 'Idle',
    actions: [notify(ErrorCode.Cease, CeaseSubcode.AdministrativeShutdown), ...TO_IDLE],
    counter: 0,
  },
  {
    from: 'Established',
    event: { type: 'HoldTimerExpires' },
    to: 'Idle',
    actions: [notify(ErrorCode.HoldTimerExpired, 0), ...FAIL],
    counter: 3,
  },
  {
    from: 'Established',
    event: { type: 'KeepaliveTimerExpires' },
    to: 'Established',
    actions: ['send-keepalive', 'start keepalive 30'],
    counter: 2,
  },
  {
    from: 'Established',
    event: { type: 'KeepAliveMsg' },
    to: 'Established',
    actions: ['start hold 90'],
    counter: 2,
  },
  {
    from: 'Established',
    event: { type: 'UpdateMsg' },
    to: 'Established',
    actions: ['start hold 90'],
    counter: 2,
  },
  { from: 'Established', event: { type: 'RouteRefreshMsg' }, to: 'Established', actions: [], counter: 2 },
  {
    from: 'Established',
    event: { type: 'UpdateMsgErr', notification: notification(ErrorCode.UpdateMessage, 1) },
    to: 'Idle',
    actions: [notify(ErrorCode.UpdateMessage, 1), ...FAIL],
    counter: 3,
  },
  { from: 'Established', event: { type: 'TcpConnectionFails' }, to: 'Idle', actions: FAIL, counter: 3 },
  { from: 'Established', event: { type: 'NotifMsg' }, to: 'Idle', actions: FAIL, counter: 3 },
  { from: 'Established', event: { type: 'NotifMsgVerErr' }, to: 'Idle', actions: FAIL, counter: 2 },
  {
    from: 'Established',
    event: { type: 'BGPOpen', holdTime: 90 },
    to: 'Idle',
    actions: fsmError(FsmSubcode.UnexpectedMessageInEstablished),
    counter: 3,
  },
  {
    from: 'Established',
    event: { type: 'ConnectRetryTimerExpires' },
    to: 'Idle',
    actions: fsmError(FsmSubcode.UnexpectedMessageInEstablished),
    counter: 3,
  },
];

describe('RFC 4271 §8.2.2 transitions', () => {
  test.each(rows.map((r) => [`${r.from}${r.passive ? ' (passive)' : ''} + ${r.event.type} → ${r.to}`, r]))(
    '%s',
    (_name, row) => {
      const result = transition(at(row.from, { passive: row.passive ?? false }), row.event, timings);
      expect(result.snapshot.state).toBe(row.to);
      expect(render(result.actions)).toEqual(row.actions);
      expect(result.snapshot.connectRetryCounter).toBe(row.counter);
    },
  );

  test('an accepted OPEN records the negotiated hold time', () => {
    const { snapshot } = transition(
      at('OpenSent', { holdTime: 0 }),
      { type: 'BGPOpen', holdTime: 9 },
      timings,
    );
    expect(snapshot.holdTime).toBe(9);
  });

  test('with hold time 0 no hold timer restarts on messages', () => {
    const { actions } = transition(at('Established', { holdTime: 0 }), { type: 'UpdateMsg' }, timings);
    expect(actions).toEqual([]);
  });

  test('keepalive is a third of the hold time, at least one second', () => {
    expect(keepaliveTime(90)).toBe(30);
    expect(keepaliveTime(10)).toBe(3);
    expect(keepaliveTime(3)).toBe(1);
  });
});
