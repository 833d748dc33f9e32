// @margay/felix: the calc graph from datastore state to desired dataplane state, and the managers
// that program it. This increment: workload routes and blackholes for local IPAM blocks.

export { RouteCalculator, type RouteCalculatorOptions, type RouteSource } from './calc/route-calculator';
export { Felix, type FelixLogger, type FelixOptions } from './felix';
export { readUpInterfaces } from './routes/interfaces';
export { RouteManager, type RouteManagerOptions } from './routes/route-manager';
