// Turns one configured neighbor into what the session layer needs, and a key that tells a
// reload whether that neighbor's session must be reset.

import type { DaemonConfig, Family, PeerSettings } from '../config/schema';
import { Afi, Safi, type Family as WireFamily } from '../packet/constants';
import type { BgpPeerConfig } from '../session/config';

const WIRE_FAMILIES: Record<Family, WireFamily> = {
  ipv4: { afi: Afi.Ipv4, safi: Safi.Unicast },
  ipv6: { afi: Afi.Ipv6, safi: Safi.Unicast },
};

export function wireFamily(family: Family): WireFamily {
  return WIRE_FAMILIES[family];
}

/** The configuration's name of a negotiated family, or null for one margay does not configure. */
export function familyName(family: WireFamily): Family | null {
  const entry = Object.entries(WIRE_FAMILIES).find(([, f]) => f.afi === family.afi && f.safi === family.safi);
  return entry ? (entry[0] as Family) : null;
}

function wireFamilies(families: readonly Family[]): WireFamily[] {
  return families.map(wireFamily);
}

export function sessionConfig(peer: PeerSettings, config: DaemonConfig): BgpPeerConfig {
  const gr = peer.gracefulRestart ?? config.gracefulRestart;
  return {
    localAs: config.asNumber,
    routerId: config.routerId,
    peerAs: peer.asNumber,
    remoteAddress: peer.address,
    remotePort: peer.port,
    localAddress: peer.localAddress,
    passive: peer.passive,
    holdTime: peer.holdTime,
    families: wireFamilies(peer.families),
    gracefulRestart: gr && {
      restartTime: gr.restartTime,
      forwardingState: config.gracefulRestart?.preserveForwarding ?? false,
    },
    timers: { connectRetryTime: peer.connectRetryTime, idleHoldTime: peer.idleHoldTime },
  };
}

/**
 * Equal keys: the neighbor's session would be set up the same way, so it may keep running. The
 * import policy is left out: a change to it needs only a route refresh. The export policy is in:
 * the table cannot re-evaluate one peer's Adj-RIB-Out (an update group's is shared, and what the
 * old policy sent but the new one rejects would need withdrawing), so a new export policy resets
 * the session, which then starts from the table under the new policy. The description is left
 * out too: it is only shown.
 */
export function peerKey(peer: PeerSettings, config: DaemonConfig): string {
  return JSON.stringify([
    sessionConfig(peer, config),
    { ...peer, import: undefined, description: undefined },
  ]);
}
