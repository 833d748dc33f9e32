// ADD, DEL, CHECK, GC and STATUS against injected parts (datastore, IPAM, link maker), so that unit
// tests can drive them with fakes and the binary with the real ones.

import { randomBytes } from 'node:crypto';
import {
  decodeResource,
  encodeResource,
  type IPPool,
  isKind,
  resourceKey,
  resourcePrefix,
} from '@margay/api';
import type { Datastore } from '@margay/datastore';
import type { Ipam } from '@margay/ipam';
import type { NetworkConfig } from './config';
import { labelsFromArgs, type PlannedEndpoint, planEndpoint } from './endpoint';
import type { CniEnvironment } from './env';
import { CniError, ERROR_CODES, type ErrorCode } from './errors';
import { GATEWAY, HOST_VETH_MAC, type WorkloadLinks } from './links';
import type { Log } from './log';
import { encapsulationOverhead } from './mtu';
import { hostVethName, ipamHandle, type Workload } from './naming';
import { type AddResult, addResult } from './result';

/** The part of `@margay/ipam`'s Ipam the plugin uses (unit tests stand a fake in for it). */
export type IpamClient = Pick<Ipam, 'assign' | 'releaseByHandle' | 'lookupHandle' | 'gc'>;

export interface PluginContext {
  env: CniEnvironment;
  config: NetworkConfig;
  store: Datastore;
  ipam: IpamClient;
  links: WorkloadLinks;
  log: Log;
}

export async function add(ctx: PluginContext): Promise<AddResult> {
  const { env, config, store, ipam, links, log } = ctx;
  const { workload, hostVeth, handle, endpoint } = describeAttachment(env, config);
  // Undo steps of a half-done ADD, run newest first: the runtime will not call DEL for it.
  const undo: { what: string; run: () => Promise<unknown> }[] = [];
  try {
    const { ip, pool } = await ipam.assign({
      handle,
      node: config.nodename,
      family: 4,
      use: 'Workload',
      attributes: {
        node: config.nodename,
        ...(workload.kind === 'pod' && { namespace: workload.namespace, pod: workload.pod }),
        containerID: env.containerId,
      },
      ...(config.pools && { pools: config.pools }),
    });
    undo.push({ what: `release ${handle}`, run: () => ipam.releaseByHandle(handle) });
    log('info', `ADD ${env.containerId}: assigned ${ip}`);
    // An explicit MTU wins; otherwise packets must still fit the underlay once encapsulated.
    const mtu = config.mtu ?? config.underlayMtu - encapsulationOverhead(await readPool(store, pool), 4);

    undo.push({ what: `delete ${hostVeth}`, run: () => links.remove(hostVeth) });
    // A veth of the same name is left from an earlier sandbox of this pod; this one replaces it.
    if (await links.remove(hostVeth)) log('warning', `ADD ${env.containerId}: replaced a stale ${hostVeth}`);
    const podMac = endpoint.resource.spec.mac!;
    await links.create({ hostVeth, netns: env.netns, ifName: env.ifName, ip, podMac, mtu });

    endpoint.resource.spec.ipNetworks = [`${ip}/32`];
    await store.put(endpoint.key, encodeResource(endpoint.resource));
    log('info', `ADD ${env.containerId}: ${hostVeth} ↔ ${env.ifName} with ${ip}, endpoint ${endpoint.key}`);
    return addResult(config, { hostVeth, hostMac: HOST_VETH_MAC, env, podMac, ip, gateway: GATEWAY, mtu });
  } catch (error) {
    for (const step of undo.reverse()) {
      try {
        await step.run();
      } catch (undoError) {
        log(
          'error',
          `ADD ${env.containerId}: rollback could not ${step.what}: ${(undoError as Error).message}`,
        );
      }
    }
    throw asCniError(error);
  }
}

/** Idempotent: whatever is already gone is skipped, and a newer sandbox's endpoint is left alone. */
export async function del(ctx: PluginContext): Promise<void> {
  const { env, store, ipam, links, log } = ctx;
  const { hostVeth, handle, endpoint } = describeAttachment(env, ctx.config);
  try {
    const stored = await store.get(endpoint.key);
    const owner =
      stored && (JSON.parse(stored.value) as { spec?: { containerID?: string } }).spec?.containerID;
    if (stored === undefined || owner === env.containerId) {
      if (stored) await store.delete(endpoint.key, { prevRevision: stored.modRevision });
      await links.remove(hostVeth);
    } else {
      log('warning', `DEL ${env.containerId}: ${endpoint.key} belongs to container ${owner}; left in place`);
    }
    const released = await ipam.releaseByHandle(handle);
    log('info', `DEL ${env.containerId}: released ${released.join(', ') || 'nothing'}`);
  } catch (error) {
    throw asCniError(error);
  }
}

export async function check(ctx: PluginContext): Promise<void> {
  const { env, store, ipam, links } = ctx;
  const { hostVeth, handle, endpoint } = describeAttachment(env, ctx.config);
  const problems: string[] = [];
  try {
    const ips = await ipam.lookupHandle(handle);
    const stored = await store.get(endpoint.key);
    if (ips.length === 0 && stored === undefined) {
      throw new CniError(
        ERROR_CODES.unknownContainer,
        `container ${env.containerId} has no address and no endpoint`,
      );
    }
    const ip = ips[0];
    if (ip === undefined) problems.push(`IPAM holds no address for ${handle}`);
    const spec =
      stored && (JSON.parse(stored.value) as { spec?: { containerID?: string; ipNetworks?: string[] } }).spec;
    if (stored === undefined) problems.push(`WorkloadEndpoint ${endpoint.key} is missing`);
    else if (spec?.containerID !== env.containerId)
      problems.push(`${endpoint.key} belongs to ${spec?.containerID}`);
    else if (ip !== undefined && spec.ipNetworks?.[0] !== `${ip}/32`) {
      problems.push(`${endpoint.key} has ${spec.ipNetworks?.join(', ')}, IPAM has ${ip}`);
    }
    const expected = previousAddresses(ctx.config.prevResult);
    if (ip !== undefined && expected.length > 0 && !expected.includes(`${ip}/32`)) {
      problems.push(`prevResult lists ${expected.join(', ')}, IPAM has ${ip}`);
    }
    if (ip !== undefined)
      problems.push(...(await links.problems({ hostVeth, netns: env.netns, ifName: env.ifName, ip })));
  } catch (error) {
    throw asCniError(error);
  }
  if (problems.length > 0) {
    throw new CniError(ERROR_CODES.checkFailed, `CHECK of ${env.containerId}: ${problems.join('; ')}`);
  }
}

/**
 * GC (spec 1.1): releases the addresses of this network's handles on this node that no valid
 * attachment uses. Other nodes' handles are theirs to collect: a runtime only knows its own.
 */
export async function gc(ctx: PluginContext): Promise<string[]> {
  const { config, ipam, log } = ctx;
  const ours = ipamHandle(config.name, '');
  const valid = new Set(config.validAttachments.map((a) => ipamHandle(config.name, a.containerID)));
  try {
    const released = await ipam.gc(
      (handle, attributes) =>
        !handle.startsWith(ours) || attributes['node'] !== config.nodename || valid.has(handle),
    );
    log('info', `GC: released ${released.join(', ') || 'nothing'}`);
    return released;
  } catch (error) {
    throw asCniError(error);
  }
}

/** STATUS (spec 1.1): ready when etcd answers and there is an IP pool to assign from. */
export async function status(store: Datastore): Promise<void> {
  let pools: number;
  try {
    pools = (await store.list(resourcePrefix('IPPool'))).items.length;
  } catch (error) {
    throw new CniError(ERROR_CODES.notAvailable, `etcd is not reachable: ${(error as Error).message}`);
  }
  if (pools === 0)
    throw new CniError(ERROR_CODES.notAvailable, 'no IPPool exists to assign pod addresses from');
}

/** The IPPool the address came from; undefined if it was deleted meanwhile. */
async function readPool(store: Datastore, name: string): Promise<IPPool | undefined> {
  const kv = name === '' ? undefined : await store.get(resourceKey('IPPool', name));
  const resource = kv && decodeResource(kv.value);
  return resource && isKind(resource, 'IPPool') ? resource : undefined;
}

interface Attachment {
  workload: Workload;
  hostVeth: string;
  handle: string;
  endpoint: PlannedEndpoint;
}

function describeAttachment(env: CniEnvironment, config: NetworkConfig): Attachment {
  const namespace = env.args['K8S_POD_NAMESPACE'];
  const pod = env.args['K8S_POD_NAME'];
  const workload: Workload =
    namespace && pod ? { kind: 'pod', namespace, pod } : { kind: 'container', containerId: env.containerId };
  const hostVeth = hostVethName(workload);
  const endpoint = planEndpoint({
    node: config.nodename,
    workload,
    containerId: env.containerId,
    endpoint: env.ifName,
    hostVeth,
    podMac: randomMac(),
    labels: { ...labelsFromArgs(env.args), ...config.labels },
  });
  return { workload, hostVeth, handle: ipamHandle(config.name, env.containerId), endpoint };
}

/** A random unicast, locally administered MAC for the pod's interface. */
function randomMac(): string {
  const bytes = randomBytes(6);
  bytes[0] = (bytes[0]! & 0xfe) | 0x02;
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}

function previousAddresses(prevResult: unknown): string[] {
  const ips = (prevResult as { ips?: { address?: unknown }[] } | undefined)?.ips;
  return Array.isArray(ips) ? ips.map((entry) => String(entry?.address)) : [];
}

// IPAM's and the datastore's failures, by the codes and names they carry (their classes load lazily).
const IPAM_CODES: Record<string, ErrorCode> = {
  'no-pool': ERROR_CODES.noPool,
  'pool-exhausted': ERROR_CODES.poolExhausted,
  'invalid-request': ERROR_CODES.invalidNetworkConfig,
  'conflict-retries': ERROR_CODES.tryAgainLater,
};

function asCniError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof CniError) return error;
  const ipamCode = IPAM_CODES[String((error as { code?: unknown }).code)];
  if (ipamCode !== undefined) return new CniError(ipamCode, `IPAM: ${error.message}`);
  if (error.name === 'DatastoreUnavailableError' || error.name === 'ConflictError') {
    return new CniError(ERROR_CODES.tryAgainLater, `etcd: ${error.message}`);
  }
  return error;
}
