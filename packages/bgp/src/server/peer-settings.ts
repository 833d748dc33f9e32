// Turns one configured neighbor into what the session layer needs, and a key that tells a
// reload whether that neighbor's session must be reset.

import type { DaemonConfig, Family, PeerSettings } from '../config/schema';
import { Afi, Safi, type Family as WireFamily } from '../packet/constants';
import type { BgpPeerConfig } from '../session/config';

const WIRE_FAMILIES: Record<Family, WireFamily> = {
  ipv4: { afi: Afi.Ipv4, safi: Safi.Unicast },
  ipv6: { afi: Afi.Ipv6, safi: Safi.Unicast },
};

function wireFamilies(families: readonly Family[]): WireFamily[] {
  return families.map((f) => WIRE_FAMILIES[f]);
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

/** Equal keys: the neighbor's session would be set up the same way, so it may keep running. */
export function peerKey(peer: PeerSettings, config: DaemonConfig): string {
  return JSON.stringify([sessionConfig(peer, config), peer]);
}
