// The three benchmark cases of issue #3 and the address plan of one run.

import { randomInt } from 'node:crypto';
import { freePort } from '@margay/testkit';
import type { TargetName, Topology } from './targets';
import type { WorkloadSpec } from './workload';

export const CASES = ['packed', 'attrsets', 'rr'] as const;
export type CaseName = (typeof CASES)[number];

export interface CaseSettings {
  name: CaseName;
  routes: number;
  perUpdate: number;
  attributeSets: number;
  monitors: number;
  routeReflector: boolean;
}

export const DEFAULT_ROUTES: Record<CaseName, number> = {
  packed: 1_000_000,
  attrsets: 1_000_000,
  rr: 100_000,
};
export const DEFAULT_RR_CLIENTS = 50;
/**
 * GoBGP needs about a minute for 300,000 routes, as in the reference run: its routes are
 * capped so that routes × monitor sessions stays at or below this.
 */
export const GOBGP_MAX_DELIVERIES = 300_000;

const DAEMON_AS = 65000;
const TESTER_AS = 65001;
const MONITOR_AS = 65002;

export function caseSettings(name: CaseName, routes: number, rrClients: number): CaseSettings {
  switch (name) {
    case 'packed':
      return { name, routes, perUpdate: 500, attributeSets: 1, monitors: 1, routeReflector: false };
    case 'attrsets':
      return { name, routes, perUpdate: 5, attributeSets: 10_000, monitors: 1, routeReflector: false };
    case 'rr':
      return { name, routes, perUpdate: 500, attributeSets: 1, monitors: rrClients, routeReflector: true };
  }
}

/** The routes a target gets in a case: all of them, except for GoBGP (see GOBGP_MAX_DELIVERIES). */
export function routesFor(target: TargetName, settings: CaseSettings): number {
  if (target !== 'gobgp') return settings.routes;
  return Math.min(settings.routes, Math.floor(GOBGP_MAX_DELIVERIES / settings.monitors));
}

export function workloadFor(settings: CaseSettings, routes: number): WorkloadSpec {
  return {
    routes,
    perUpdate: settings.perUpdate,
    attributeSets: settings.attributeSets,
    testerAs: settings.routeReflector ? DAEMON_AS : TESTER_AS,
    ibgp: settings.routeReflector,
  };
}

/**
 * A fresh 127.a.b.0/24 for one run (all of 127/8 is on lo; 127.0.x is left to others): the daemon
 * on .1, the tester on .2, monitors from .10 up.
 */
export async function allocateTopology(settings: CaseSettings): Promise<Topology> {
  if (settings.monitors < 1 || settings.monitors > 240)
    throw new Error(`monitors: ${settings.monitors} is not in 1..240`);
  const net = `127.${randomInt(16, 255)}.${randomInt(0, 256)}`;
  const daemonAddress = `${net}.1`;
  return {
    daemon: { address: daemonAddress, port: await freePort(daemonAddress) },
    daemonAs: DAEMON_AS,
    tester: { address: `${net}.2`, asNumber: settings.routeReflector ? DAEMON_AS : TESTER_AS },
    monitors: {
      addresses: Array.from({ length: settings.monitors }, (_, i) => `${net}.${10 + i}`),
      asNumber: settings.routeReflector ? DAEMON_AS : MONITOR_AS,
    },
    routeReflector: settings.routeReflector,
  };
}
