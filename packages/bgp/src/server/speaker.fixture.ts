// Test helpers: in-process speakers on fresh loopback endpoints, and bounded polling (a limit that
// only keeps a broken test from hanging, never a timing assertion).

import { loopbackEndpoint } from '@margay/anchors';
import { waitFor } from '@margay/testkit';
import { type DaemonConfig, validateConfig } from '../config/schema';

export type Endpoint = { address: string; port: number };

export function endpoint(): Promise<Endpoint> {
  return loopbackEndpoint();
}

/** Polls `probe` until it returns true; the Jest timeout ends a wait that never succeeds. */
/** Waits (bounded) for `probe`; the argument order of the speaker tests, over testkit's waitFor. */
export function until(probe: () => boolean | Promise<boolean>, what: string): Promise<void> {
  return waitFor(what, probe, 60_000);
}

export interface PeerSpec {
  readonly at: Endpoint;
  readonly asNumber: number;
  readonly [setting: string]: unknown;
}

/** A speaker at `at` with fast reconnects; `extra` overrides or adds top-level settings. */
export function speakerConfig(
  at: Endpoint,
  asNumber: number,
  peers: readonly PeerSpec[],
  extra: Record<string, unknown> = {},
): DaemonConfig {
  return validateConfig(
    {
      asNumber,
      routerId: at.address,
      listen: at,
      api: false,
      peers: peers.map(({ at: peerAt, ...settings }) => ({
        address: peerAt.address,
        port: peerAt.port,
        localAddress: at.address,
        connectRetryTime: 1,
        idleHoldTime: 1,
        ...settings,
      })),
      ...extra,
    },
    'test config',
  );
}
