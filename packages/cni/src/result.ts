// The success result of ADD, in the shape of the requested spec version.

import type { NetworkConfig } from './config';
import type { CniEnvironment } from './env';

export interface AddResult {
  cniVersion: string;
  interfaces: { name: string; mac: string; sandbox?: string; mtu?: number }[];
  ips: { address: string; gateway: string; interface: number; version?: '4' }[];
  routes: { dst: string; gw?: string }[];
  dns: Record<string, unknown>;
}

export interface AddOutcome {
  hostVeth: string;
  hostMac: string;
  env: CniEnvironment;
  podMac: string;
  ip: string;
  gateway: string;
  mtu: number;
}

export function addResult(config: NetworkConfig, outcome: AddOutcome): AddResult {
  const { cniVersion } = config;
  const { hostVeth, hostMac, env, podMac, ip, gateway, mtu } = outcome;
  // 1.1.0 added interface MTUs; 0.4.0 still tagged each address with its IP version.
  const withMtu = cniVersion === '1.1.0' ? { mtu } : {};
  return {
    cniVersion,
    interfaces: [
      { name: hostVeth, mac: hostMac, ...withMtu },
      { name: env.ifName, mac: podMac, sandbox: env.netns, ...withMtu },
    ],
    ips: [
      {
        ...(cniVersion === '0.4.0' && { version: '4' as const }),
        address: `${ip}/32`,
        gateway,
        interface: 1,
      },
    ],
    routes: [{ dst: '0.0.0.0/0', gw: gateway }],
    dns: config.dns,
  };
}
