// @margay/felix: the calc graph from datastore state to desired dataplane state, and the managers
// that program it: workload routes and local-block blackholes, and network policy (iptables, ipsets).

export { RouteCalculator, type RouteCalculatorOptions, type RouteSource } from './calc/route-calculator';
export {
  Felix,
  type FelixLogger,
  type FelixOptions,
  type FelixPolicyOptions,
  type PolicyDataplane,
} from './felix';
export {
  type IpSetContents,
  type IpSetDelta,
  POLICY_SOURCES,
  PolicyCalculator,
  type PolicyCalculatorOptions,
  type PolicyChanges,
  type PolicySource,
} from './policy/calc/policy-calculator';
export { DEFAULT_RENDERER } from './policy/default-renderer';
export type { EndpointModel, IpSetRef, PolicyModel, ProfileModel, TierModel } from './policy/model';
export { PolicyManager, type PolicyManagerOptions, type PolicyManagerStats } from './policy/policy-manager';
export type { PolicyRenderer } from './policy/renderer';
export { readUpInterfaces } from './routes/interfaces';
export { RouteManager, type RouteManagerOptions } from './routes/route-manager';
