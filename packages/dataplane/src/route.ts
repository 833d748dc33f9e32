// One kernel route: what callers describe, its validated canonical form, the `ip -batch` words
// that write it, and the parsing of `ip -j route show` back into the same form.

import { canonicalAddress, type IpFamily, parsePrefix } from './prefix';

interface RouteBase {
  /** "10.0.1.0/26", "2001:db8::/64"; a bare address is a host route. */
  readonly dst: string;
  /** Default 0 (IPv4) / 1024 (IPv6, where the kernel turns 0 into 1024). */
  readonly metric?: number;
  readonly mtu?: number;
}

/** `dst via gw [dev d] [onlink]`, `dst dev d scope link`, or `blackhole dst`. */
export type KernelRoute = RouteBase &
  (
    | { readonly type: 'unicast'; readonly via: string; readonly dev?: string; readonly onlink?: boolean }
    | { readonly type: 'link'; readonly dev: string }
    | { readonly type: 'blackhole' }
  );

/** A route in the kernel's own spelling. `type` may be another kernel type when read back. */
export interface CanonicalRoute {
  readonly family: IpFamily;
  readonly dst: string;
  readonly type: string;
  readonly via: string | null;
  readonly dev: string | null;
  readonly onlink: boolean;
  readonly metric: number;
  readonly mtu: number | null;
}

const MAX_U32 = 0xffffffff;
const DEVICE_NAME = /^[^\s/:]{1,15}$/;

/** Validates a route, throwing an error that names the route and the bad field. */
export function canonicalRoute(route: KernelRoute): CanonicalRoute {
  const where = `route ${JSON.stringify(route.dst)}`;
  const { family, text: dst } = parsePrefix(route.dst, where);
  const integer = (name: string, value: number, min: number, max: number): number => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(`${where}: ${name} ${value} is not an integer in ${min}-${max}`);
    }
    return value;
  };
  const device = (dev: string): string => {
    if (!DEVICE_NAME.test(dev)) throw new Error(`${where}: '${dev}' is not a valid device name`);
    return dev;
  };
  const metric = defaultMetric(
    family,
    route.metric === undefined ? 0 : integer('metric', route.metric, 0, MAX_U32),
  );
  const mtu = route.mtu === undefined ? null : integer('mtu', route.mtu, 68, 65535);
  const base = { family, dst, metric, mtu };
  switch (route.type) {
    case 'unicast': {
      const via = canonicalAddress(route.via, `${where} via`);
      if (via.family !== family) throw new Error(`${where}: gateway ${route.via} is not IPv${family}`);
      const dev = route.dev === undefined ? null : device(route.dev);
      const onlink = route.onlink ?? false;
      if (onlink && dev === null) throw new Error(`${where}: onlink needs a device`);
      if (family === 6 && via.text.startsWith('fe80:') && dev === null) {
        throw new Error(`${where}: link-local gateway ${route.via} needs a device`);
      }
      return { ...base, type: 'unicast', via: via.text, dev, onlink };
    }
    case 'link':
      return { ...base, type: 'link', via: null, dev: device(route.dev), onlink: false };
    case 'blackhole':
      return { ...base, type: 'blackhole', via: null, dev: null, onlink: false };
    default:
      throw new Error(`${where}: unknown route type '${(route as { type: unknown }).type}'`);
  }
}

/** The kernel stores IPv6 metric 0 as 1024. */
function defaultMetric(family: IpFamily, metric: number): number {
  return family === 6 && metric === 0 ? 1024 : metric;
}

/** Does the kernel's route already say what we want? Unset optional fields (a gateway route's device) match anything. */
export function satisfies(actual: CanonicalRoute, desired: CanonicalRoute): boolean {
  return (
    actual.type === desired.type &&
    actual.via === desired.via &&
    (desired.dev === null || actual.dev === desired.dev) &&
    actual.onlink === desired.onlink &&
    actual.metric === desired.metric &&
    actual.mtu === desired.mtu
  );
}

export interface Ownership {
  readonly proto: number;
  readonly table: number;
}

/** The `ip -batch` line that installs or overwrites the route. */
export function replaceLine(route: CanonicalRoute, owner: Ownership): string {
  const words = ['route', 'replace'];
  if (route.type === 'blackhole') words.push('blackhole');
  words.push(route.dst);
  if (route.via !== null) words.push('via', route.via);
  if (route.dev !== null) words.push('dev', route.dev);
  if (route.type === 'link') words.push('scope', 'link');
  if (route.onlink) words.push('onlink');
  words.push(...ownedBy(route, owner));
  if (route.mtu !== null) words.push('mtu', String(route.mtu));
  return words.join(' ');
}

/** The `ip -batch` line that removes exactly this route of ours. */
export function deleteLine(route: CanonicalRoute, owner: Ownership): string {
  return ['route', 'del', route.dst, ...ownedBy(route, owner)].join(' ');
}

function ownedBy(route: CanonicalRoute, owner: Ownership): string[] {
  return ['proto', String(owner.proto), 'table', String(owner.table), 'metric', String(route.metric)];
}

interface ShownRoute {
  readonly type?: string;
  readonly dst?: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly metric?: number;
  readonly flags?: readonly string[];
  readonly metrics?: readonly { readonly mtu?: number }[];
}

/** Parses `ip -j -4|-6 route show` output. */
export function parseShownRoutes(json: string, family: IpFamily): CanonicalRoute[] {
  if (json.trim() === '') return [];
  const shown = JSON.parse(json) as ShownRoute[];
  return shown.map((entry) => {
    const dst =
      entry.dst === undefined || entry.dst === 'default'
        ? family === 4
          ? '0.0.0.0/0'
          : '::/0'
        : entry.dst.includes('/')
          ? entry.dst
          : `${entry.dst}/${family === 4 ? 32 : 128}`;
    const gateway = entry.gateway ?? null;
    const kernelType = entry.type ?? 'unicast';
    const blackhole = kernelType === 'blackhole';
    return {
      family,
      dst,
      type: kernelType === 'unicast' && gateway === null ? 'link' : kernelType,
      via: gateway,
      // IPv6 blackholes show `dev lo`: not part of the route we wrote.
      dev: blackhole ? null : (entry.dev ?? null),
      onlink: entry.flags?.includes('onlink') ?? false,
      metric: entry.metric ?? 0,
      mtu: entry.metrics?.find((m) => m.mtu !== undefined)?.mtu ?? null,
    };
  });
}
