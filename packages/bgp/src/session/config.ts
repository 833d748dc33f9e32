// Configuration of one BGP neighbor, validated up front so that a bad value is reported by name
// before any connection is attempted.

import { isIP } from 'node:net';
import { DEFAULT_FSM_CONFIG, type FsmConfig } from '../fsm/machine';
import type { Capabilities } from '../packet/capabilities';
import { Afi, BGP_PORT, type Family, Safi } from '../packet/constants';
import { parseIpv4 } from '../packet/ip';

/** Capabilities a peer must advertise or we refuse the session (RFC 5492 §3). */
export type RequiredCapability =
  | 'four-octet-as'
  | 'route-refresh'
  | 'enhanced-route-refresh'
  | 'graceful-restart'
  | 'extended-message';

export interface GracefulRestartConfig {
  /** Seconds the peer should keep our routes while we restart, 0..4095. */
  readonly restartTime: number;
  /** We kept forwarding through our restart (F bit, per family). */
  readonly forwardingState: boolean;
  /** We have just restarted: set the R bit in OPENs until the first session is established. */
  readonly restarting?: boolean;
}

export interface BgpPeerConfig {
  readonly localAs: number;
  /** Our BGP identifier (router id), dotted IPv4. */
  readonly routerId: string;
  readonly peerAs: number;
  /** The peer's address; incoming connections are matched on it. */
  readonly remoteAddress: string;
  readonly remotePort?: number;
  /** Source address of outgoing connections. */
  readonly localAddress?: string;
  /** Source port of outgoing connections (0 or absent: any). */
  readonly localPort?: number;
  /** Never connect; wait for the peer. */
  readonly passive?: boolean;
  /** Seconds; 0 or 3..65535. Default 90. */
  readonly holdTime?: number;
  /** Families to negotiate. Default IPv4 unicast. */
  readonly families?: readonly Family[];
  /** Default true. */
  readonly routeRefresh?: boolean;
  /** Default true. */
  readonly enhancedRouteRefresh?: boolean;
  /** RFC 8654; default true. Used only when the peer offers it too. */
  readonly extendedMessages?: boolean;
  readonly gracefulRestart?: GracefulRestartConfig;
  readonly requiredCapabilities?: readonly RequiredCapability[];
  readonly timers?: Partial<Omit<FsmConfig, 'passive'>>;
}

/** The configuration with defaults applied and values checked. */
export interface ResolvedPeerConfig {
  readonly localAs: number;
  readonly bgpId: number;
  readonly peerAs: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly holdTime: number;
  readonly capabilities: Capabilities;
  readonly required: readonly RequiredCapability[];
  readonly fsm: FsmConfig;
}

const IPV4_UNICAST: Family = { afi: Afi.Ipv4, safi: Safi.Unicast };

export class PeerConfigError extends Error {
  override name = 'PeerConfigError';
}

export function resolvePeerConfig(config: BgpPeerConfig): ResolvedPeerConfig {
  const where = `peer ${config.remoteAddress}`;
  const fail = (field: string, problem: string): never => {
    throw new PeerConfigError(`${where}: ${field} ${problem}`);
  };
  const asNumber = (field: string, value: number): number =>
    Number.isInteger(value) && value >= 1 && value <= 0xffffffff
      ? value
      : fail(field, `${value} is not an AS number in 1..4294967295`);
  const port = (field: string, value: number | undefined, fallback: number | undefined) => {
    if (value === undefined) return fallback;
    return Number.isInteger(value) && value >= 0 && value <= 65535
      ? value
      : fail(field, `${value} is not a TCP port`);
  };
  const localAs = asNumber('localAs', config.localAs);
  const peerAs = asNumber('peerAs', config.peerAs);
  if (isIP(config.remoteAddress) === 0)
    fail('remoteAddress', `${JSON.stringify(config.remoteAddress)} is not an IP address`);
  if (config.localAddress !== undefined && isIP(config.localAddress) === 0) {
    fail('localAddress', `${JSON.stringify(config.localAddress)} is not an IP address`);
  }
  let bgpId = 0;
  try {
    bgpId = parseIpv4(config.routerId);
  } catch {
    fail('routerId', `${JSON.stringify(config.routerId)} is not a dotted IPv4 address`);
  }
  if (bgpId === 0) fail('routerId', 'must not be 0.0.0.0');
  const holdTime = config.holdTime ?? 90;
  if (!Number.isInteger(holdTime) || holdTime < 0 || holdTime > 65535 || holdTime === 1 || holdTime === 2) {
    fail('holdTime', `${holdTime} must be 0 or 3..65535 seconds`);
  }
  const families = config.families ?? [IPV4_UNICAST];
  if (families.length === 0) fail('families', 'must name at least one address family');
  const gr = config.gracefulRestart;
  if (gr && (!Number.isInteger(gr.restartTime) || gr.restartTime < 0 || gr.restartTime > 4095)) {
    fail('gracefulRestart.restartTime', `${gr.restartTime} is not in 0..4095 seconds`);
  }
  const required = config.requiredCapabilities ?? [];
  if (required.includes('graceful-restart') && !gr) {
    fail(
      'requiredCapabilities',
      'graceful-restart needs gracefulRestart configured: it is what we answer with',
    );
  }
  const fsm: FsmConfig = { ...DEFAULT_FSM_CONFIG, ...config.timers, passive: config.passive ?? false };
  for (const [name, value] of Object.entries(fsm)) {
    if (typeof value === 'number' && !(value > 0 && Number.isFinite(value))) {
      fail(`timers.${name}`, `${value} must be a positive number of seconds`);
    }
  }
  return {
    localAs,
    bgpId,
    peerAs,
    remoteAddress: config.remoteAddress,
    remotePort: port('remotePort', config.remotePort, BGP_PORT)!,
    localAddress: config.localAddress,
    localPort: port('localPort', config.localPort, undefined),
    holdTime,
    capabilities: {
      multiprotocol: families,
      routeRefresh: config.routeRefresh ?? true,
      enhancedRouteRefresh: config.enhancedRouteRefresh ?? true,
      extendedMessage: config.extendedMessages ?? true,
      fourOctetAs: localAs,
      gracefulRestart: gr
        ? {
            restarting: gr.restarting ?? false,
            notification: false,
            restartTime: gr.restartTime,
            families: families.map((f) => ({ ...f, forwardingState: gr.forwardingState })),
          }
        : null,
      addPath: [],
      unknown: [],
    },
    required,
    fsm,
  };
}
