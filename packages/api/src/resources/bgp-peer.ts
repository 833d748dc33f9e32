import { z } from 'zod';
import { parseIp } from '../net';
import {
  asNumber,
  checkedString,
  duration,
  intInRange,
  oneOf,
  resourceName,
  secretKeyRef,
  selector,
  strictObject,
} from '../schema/fields';
import { type Resource, resourceSchema } from './meta';

/** `IP`, `IPv4:port` or `[IPv6]:port`. */
function peerIpProblem(text: string): string | undefined {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const address = match ? match[1]! : text;
  const portNumber = match ? Number(match[2]) : 179;
  const ip = parseIp(address);
  const bracketsMatchVersion = !match || text.startsWith('[') === (ip?.version === 6);
  if (ip && bracketsMatchVersion && portNumber >= 1 && portNumber <= 65535) return undefined;
  return `${JSON.stringify(text)} is not a peer address: use IP, IPv4:port or [IPv6]:port`;
}

export const bgpPeerSpec = strictObject({
  node: resourceName.optional(),
  nodeSelector: selector.optional(),
  peerIP: checkedString(peerIpProblem).optional(),
  peerSelector: selector.optional(),
  asNumber: asNumber.optional(),
  localASNumber: asNumber.optional(),
  keepOriginalNextHop: z.boolean().optional(),
  nextHopMode: oneOf(['Auto', 'Self', 'Keep']).optional(),
  password: secretKeyRef.optional(),
  sourceAddress: oneOf(['UseNodeIP', 'None']).optional(),
  maxRestartTime: duration.optional(),
  keepaliveTime: duration.optional(),
  numAllowedLocalASNumbers: intInRange(1, 10).optional(),
  ttlSecurity: intInRange(1, 255).optional(),
  reachableBy: z.string().optional(),
  filters: z.array(resourceName).optional(),
  reversePeering: oneOf(['Auto', 'Manual']).optional(),
  localWorkloadSelector: selector.optional(),
}).superRefine((spec, ctx) => {
  const problem = (message: string, field?: string) =>
    ctx.addIssue({ code: 'custom', path: field === undefined ? [] : [field], message });
  if (spec.node !== undefined && spec.nodeSelector !== undefined) {
    problem('set either node or nodeSelector, not both', 'nodeSelector');
  }
  const targets = [spec.peerIP, spec.peerSelector, spec.localWorkloadSelector].filter((t) => t !== undefined);
  if (targets.length !== 1) {
    problem('set exactly one of peerIP, peerSelector and localWorkloadSelector');
  }
  if (spec.peerIP !== undefined && spec.asNumber === undefined) {
    problem('required when peerIP is set', 'asNumber');
  }
  if (spec.peerSelector !== undefined && spec.asNumber !== undefined) {
    problem('not allowed with peerSelector: selected nodes peer with their own AS number', 'asNumber');
  }
});

export type BGPPeerSpec = z.output<typeof bgpPeerSpec>;
export interface BGPPeer extends Resource<BGPPeerSpec> {
  kind: 'BGPPeer';
}
export const bgpPeerSchema = resourceSchema('BGPPeer', bgpPeerSpec);
