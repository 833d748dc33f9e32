import type { BgpServer, EndOfRibListener } from '@margay/bgp';
import { RoutesSettled } from './routes-settled';

/** Just enough of a BgpServer: End-of-RIB listeners that the test calls. */
function fakeServer() {
  const listeners = new Set<EndOfRibListener>();
  const server = {
    onEndOfRib(listener: EndOfRibListener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  } as unknown as BgpServer;
  return {
    server,
    endOfRib: (peer: string, family: 'ipv4' | 'ipv6') => {
      for (const listener of listeners) listener(peer, family);
    },
    listeners,
  };
}

function track(peers: string[], timeoutMs = 60_000) {
  const fake = fakeServer();
  const reasons: string[] = [];
  const settled = new RoutesSettled({
    server: fake.server,
    peers,
    timeoutMs,
    onSettled: (r) => reasons.push(r),
  });
  return { ...fake, reasons, settled };
}

test('settles once every peer has sent End-of-RIB for IPv4, once', () => {
  const t = track(['10.0.0.1', '10.0.0.2']);
  t.endOfRib('10.0.0.1', 'ipv4');
  t.endOfRib('10.0.0.2', 'ipv6');
  t.endOfRib('10.0.0.9', 'ipv4'); // not one we wait for
  expect(t.reasons).toEqual([]);
  t.endOfRib('10.0.0.2', 'ipv4');
  t.endOfRib('10.0.0.1', 'ipv4');
  expect(t.reasons).toEqual(['end-of-rib']);
  expect(t.settled.settled).toBe(true);
  expect(t.listeners.size).toBe(0);
});

test('a peer removed from the configuration is no longer waited for', () => {
  const t = track(['10.0.0.1', '10.0.0.2']);
  t.endOfRib('10.0.0.1', 'ipv4');
  t.settled.retain(['10.0.0.1', '10.0.0.3']);
  expect(t.reasons).toEqual(['end-of-rib']);
});

test('no peers: settled at once; a peer that never answers: settled when the wait runs out', async () => {
  const none = track([]);
  await Promise.resolve();
  expect(none.reasons).toEqual(['end-of-rib']);

  const fake = fakeServer();
  const reason = await new Promise((resolve) => {
    new RoutesSettled({ server: fake.server, peers: ['10.0.0.1'], timeoutMs: 10, onSettled: resolve });
  });
  expect(reason).toBe('timeout');
});

test('cancel stops the wait without calling back', async () => {
  const fake = fakeServer();
  const reasons: string[] = [];
  const settled = new RoutesSettled({
    server: fake.server,
    peers: ['10.0.0.1'],
    timeoutMs: 5,
    onSettled: (r) => reasons.push(r),
  });
  settled.cancel();
  fake.endOfRib('10.0.0.1', 'ipv4');
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(reasons).toEqual([]);
});
