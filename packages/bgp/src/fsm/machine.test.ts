import { CeaseSubcode, ErrorCode } from '../packet/constants';
import { ManualClock } from './clock';
import { collisionSurvivor } from './collision';
import { Fsm, type FsmConfig, type SessionAction } from './machine';
import type { FsmState } from './transitions';

const config: FsmConfig = {
  passive: false,
  connectRetryTime: 30,
  idleHoldTime: 5,
  maxIdleHoldTime: 40,
  errorForgetTime: 300,
};

function harness() {
  const clock = new ManualClock();
  const performed: SessionAction[] = [];
  const changes: string[] = [];
  const fsm = new Fsm(config, clock, {
    perform: (a) => performed.push(a),
    stateChanged: (from: FsmState, to: FsmState) => changes.push(`${from}->${to}`),
  });
  const sent = () =>
    performed.flatMap((a) =>
      a.type === 'send-notification' ? [`notify ${a.notification.code}/${a.notification.subcode}`] : [a.type],
    );
  return { clock, fsm, performed, changes, sent };
}

/** Drives a fresh FSM to Established with the given negotiated hold time. */
function established(holdTime = 90) {
  const h = harness();
  h.fsm.dispatch({ type: 'ManualStart' });
  h.fsm.dispatch({ type: 'TcpConnectionConfirmed' });
  h.fsm.dispatch({ type: 'BGPOpen', holdTime });
  h.fsm.dispatch({ type: 'KeepAliveMsg' });
  expect(h.fsm.state).toBe('Established');
  h.performed.length = 0;
  return h;
}

describe('Fsm timers', () => {
  test('the connect retry timer re-attempts the connection', () => {
    const h = harness();
    h.fsm.dispatch({ type: 'ManualStart' });
    expect(h.sent()).toEqual(['connect']);
    h.clock.advance(29_999);
    expect(h.sent()).toEqual(['connect']);
    h.clock.advance(1);
    expect(h.sent()).toEqual(['connect', 'drop', 'connect']);
    expect(h.fsm.state).toBe('Connect');
  });

  test('no OPEN within the large hold time: Hold Timer Expired, then Idle', () => {
    const h = harness();
    h.fsm.dispatch({ type: 'ManualStart' });
    h.fsm.dispatch({ type: 'TcpConnectionConfirmed' });
    h.clock.advance(239_000);
    expect(h.fsm.state).toBe('OpenSent');
    h.clock.advance(1_000);
    expect(h.fsm.state).toBe('Idle');
    expect(h.sent()).toContain(`notify ${ErrorCode.HoldTimerExpired}/0`);
    expect(h.changes).toEqual(['Idle->Connect', 'Connect->OpenSent', 'OpenSent->Idle']);
  });

  test('in Established, keepalives go out every hold/3 and incoming messages keep the session', () => {
    const h = established(9);
    for (let i = 0; i < 4; i++) {
      h.clock.advance(3_000);
      h.fsm.dispatch({ type: 'KeepAliveMsg' });
    }
    expect(h.sent()).toEqual(['send-keepalive', 'send-keepalive', 'send-keepalive', 'send-keepalive']);
    expect(h.fsm.state).toBe('Established');
  });

  test('hold timer expiry in Established sends Hold Timer Expired and drops the connection', () => {
    const h = established(9);
    h.clock.advance(9_000);
    expect(h.fsm.state).toBe('Idle');
    const sent = h.sent();
    expect(sent).toContain(`notify ${ErrorCode.HoldTimerExpired}/0`);
    expect(sent.indexOf(`notify ${ErrorCode.HoldTimerExpired}/0`)).toBeLessThan(sent.indexOf('drop'));
  });

  test('hold time 0 means no keepalives and no hold timer', () => {
    const h = established(0);
    h.clock.advance(3_600_000);
    expect(h.sent()).toEqual([]);
    expect(h.fsm.state).toBe('Established');
  });

  test('failures restart the session after an idle hold time that doubles up to the maximum', () => {
    const h = harness();
    const delays: number[] = [];
    h.fsm.dispatch({ type: 'ManualStart' });
    for (let i = 0; i < 5; i++) {
      h.fsm.dispatch({ type: 'TcpConnectionFails' });
      expect(h.fsm.state).toBe('Idle');
      const delay = h.fsm.pendingRestartDelay!;
      delays.push(delay);
      h.clock.advance(delay * 1000 - 1);
      expect(h.fsm.state).toBe('Idle');
      h.clock.advance(1);
      expect(h.fsm.state).toBe('Connect');
    }
    expect(delays).toEqual([5, 10, 20, 40, 40]);
  });

  test('after the error forget time the backoff starts over', () => {
    const h = harness();
    h.fsm.dispatch({ type: 'ManualStart' });
    h.fsm.dispatch({ type: 'TcpConnectionFails' });
    h.clock.advance(5_000);
    h.fsm.dispatch({ type: 'TcpConnectionFails' });
    expect(h.fsm.pendingRestartDelay).toBe(10);
    h.clock.advance(301_000);
    h.fsm.dispatch({ type: 'TcpConnectionFails' });
    expect(h.fsm.pendingRestartDelay).toBe(5);
  });

  test('a passive session restarts passively', () => {
    const clock = new ManualClock();
    const performed: string[] = [];
    const fsm = new Fsm({ ...config, passive: true }, clock, {
      perform: (a) => performed.push(a.type),
      stateChanged: () => {},
    });
    fsm.dispatch({ type: 'ManualStartPassive' });
    fsm.dispatch({ type: 'TcpConnectionConfirmed' });
    fsm.dispatch({ type: 'NotifMsg' });
    clock.advance(5_000);
    expect(fsm.state).toBe('Active');
    expect(performed).not.toContain('connect');
  });

  test('ManualStop cancels a pending restart and sends Cease when a connection is up', () => {
    const h = established();
    h.fsm.dispatch({ type: 'ManualStop' });
    expect(h.sent()).toEqual([`notify ${ErrorCode.Cease}/${CeaseSubcode.AdministrativeShutdown}`, 'drop']);
    const idle = harness();
    idle.fsm.dispatch({ type: 'ManualStart' });
    idle.fsm.dispatch({ type: 'TcpConnectionFails' });
    idle.fsm.dispatch({ type: 'ManualStop' });
    expect(idle.clock.pendingCount).toBe(0);
  });

  test('events raised while handling an event run afterwards, in order', () => {
    const clock = new ManualClock();
    const order: string[] = [];
    const fsm: Fsm = new Fsm(config, clock, {
      perform: (a) => {
        order.push(a.type);
        // A write that fails synchronously reports the failure from inside the action.
        if (a.type === 'send-open') fsm.dispatch({ type: 'TcpConnectionFails' });
      },
      stateChanged: (_from, to) => order.push(to),
    });
    fsm.dispatch({ type: 'ManualStart' });
    fsm.dispatch({ type: 'TcpConnectionConfirmed' });
    expect(order).toEqual(['connect', 'Connect', 'send-open', 'OpenSent', 'drop', 'Active']);
  });

  test('dispose cancels every timer and ignores later events', () => {
    const h = established(9);
    h.fsm.dispose();
    expect(h.clock.pendingCount).toBe(0);
    h.fsm.dispatch({ type: 'HoldTimerExpires' });
    expect(h.fsm.state).toBe('Established');
  });
});

describe('collision resolution', () => {
  test('the connection initiated by the higher BGP identifier survives, both ways', () => {
    expect(collisionSurvivor({ localBgpId: 2, remoteBgpId: 1, localAs: 65000, remoteAs: 65001 })).toBe(
      'outgoing',
    );
    expect(collisionSurvivor({ localBgpId: 1, remoteBgpId: 2, localAs: 65001, remoteAs: 65000 })).toBe(
      'incoming',
    );
  });

  test('equal identifiers (eBGP, RFC 6286) are decided by the AS number', () => {
    expect(collisionSurvivor({ localBgpId: 7, remoteBgpId: 7, localAs: 65002, remoteAs: 65001 })).toBe(
      'outgoing',
    );
    expect(collisionSurvivor({ localBgpId: 7, remoteBgpId: 7, localAs: 65001, remoteAs: 65002 })).toBe(
      'incoming',
    );
  });
});
