import { validateConfig } from '../config/schema';
import { peerKey } from './peer-settings';

const withPeer = (policies: Record<string, unknown>) =>
  validateConfig(
    {
      asNumber: 65000,
      routerId: '10.0.0.1',
      peers: [{ address: '127.0.0.2', asNumber: 65001, ...policies }],
    },
    'test',
  );
const keyOf = (policies: Record<string, unknown>) => {
  const config = withPeer(policies);
  return peerKey(config.peers[0]!, config);
};
const clusterRoutes = { prefixes: [{ prefix: '10.244.0.0/16', le: 32 }] };

test('an import policy change keeps the session (a route refresh follows)', () => {
  expect(keyOf({ import: 'all', export: clusterRoutes })).toBe(
    keyOf({ import: 'none', export: clusterRoutes }),
  );
  expect(keyOf({ import: clusterRoutes, export: 'all' })).toBe(keyOf({ import: 'all', export: 'all' }));
});

test('an export policy change resets the session, so the peer gets the table under the new policy', () => {
  expect(keyOf({ import: 'all', export: clusterRoutes })).not.toBe(keyOf({ import: 'all', export: 'all' }));
  const wider = { prefixes: [{ prefix: '10.244.0.0/16', le: 32 }, { prefix: '10.96.0.0/12' }] };
  expect(keyOf({ import: 'all', export: clusterRoutes })).not.toBe(keyOf({ import: 'all', export: wider }));
  expect(keyOf({ import: 'all', export: clusterRoutes })).toBe(
    keyOf({ import: 'all', export: clusterRoutes }),
  );
});

test('a description change keeps the session: it is only shown', () => {
  expect(keyOf({ description: 'global' })).toBe(keyOf({ description: 'node-to-node mesh' }));
  expect(keyOf({ description: 'global' })).toBe(keyOf({}));
});
