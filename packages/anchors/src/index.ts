export { type BirdDaemon, bird1Dir, startBird1, startBird2 } from './bird';
export type {
  DaemonName,
  LaunchOptions,
  PeerStatus,
  RouteEntry,
  RunningDaemon,
  SessionState,
} from './daemon';
export { loopbackEndpoint } from './endpoint';
export {
  type ExabgpDaemon,
  type ExabgpRoute,
  type ExabgpSpec,
  type RawAttribute,
  startExabgp,
} from './exabgp';
export { type FrrDaemon, startFrr } from './frr';
export { type GobgpDaemon, startGobgp } from './gobgp';
export { type OpenbgpdDaemon, startOpenbgpd } from './openbgpd';
export { type DaemonSpec, type OriginatedRoute, type PeerSpec, SpecError } from './spec';
