// The gRPC server of the management API: a thin translation between BgpServer and the wire.

import { isIP } from 'node:net';
import {
  Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from '@margay/log';
import { checkPrefix } from '../config/prefix';
import type { RouteView } from '../server/routes';
import type { BgpServer, PeerView, ServerEvent } from '../server/server';
import type { ApiEvent, ApiPeer, ApiRefreshRequest, ApiRibEntry, ApiRibFilter } from './messages';
import { bgpService } from './proto';

export interface ApiServer {
  /** The bound port (useful when asked for port 0). */
  readonly port: number;
  close(): Promise<void>;
}

function apiPeer(peer: PeerView): ApiPeer {
  return {
    address: peer.address,
    asNumber: peer.asNumber,
    type: peer.type,
    description: peer.description ?? '',
    state: peer.state,
    sinceUnixMs: peer.since.getTime(),
    uptimeSeconds: peer.uptime ?? 0,
    routerId: peer.routerId ?? '',
    messagesIn: peer.messagesIn,
    messagesOut: peer.messagesOut,
    updatesIn: peer.updatesIn,
    updatesOut: peer.updatesOut,
    prefixesReceived: peer.prefixesReceived,
    prefixesAccepted: peer.prefixesAccepted,
    prefixesAdvertised: peer.prefixesAdvertised,
    lastError: peer.lastError ?? '',
  };
}

function apiRibEntry(route: RouteView): ApiRibEntry {
  return {
    prefix: route.prefix,
    best: route.best,
    nextHop: route.nextHop,
    asPath: route.asPath,
    origin: route.origin,
    localPref: route.localPref ?? undefined,
    med: route.med ?? undefined,
    communities: [...route.communities],
    fromPeer: route.fromPeer,
  };
}

function apiEvent(event: ServerEvent): ApiEvent {
  if (event.type === 'peer')
    return { event: 'peer', peer: { address: event.address, from: event.from, to: event.to } };
  const best = event.best && apiRibEntry(event.best);
  return { event: 'route', route: { kind: event.kind, prefix: event.prefix, best } };
}

const invalid = (message: string) => ({ code: status.INVALID_ARGUMENT, details: message });

function checkedFamily(family: string | undefined): string | null {
  return family && family !== 'ipv4' && family !== 'ipv6'
    ? `family: ${JSON.stringify(family)} is not ipv4 or ipv6`
    : null;
}

function checkedPrefix(prefix: string): string | null {
  const checked = checkPrefix(prefix);
  return 'problem' in checked ? `prefix: ${checked.problem}` : null;
}

/** Serves the API of `bgp` on `address` ("host:port"). */
export async function startApiServer(bgp: BgpServer, address: string, logger: Logger): Promise<ApiServer> {
  const watchers = new Set<ServerWritableStream<unknown, unknown>>();
  const changePath =
    (change: (prefix: string) => boolean) =>
    (call: ServerUnaryCall<{ prefix: string }, unknown>, done: sendUnaryData<{ changed: boolean }>) => {
      const problem = checkedPrefix(call.request.prefix);
      if (problem) done(invalid(problem));
      else done(null, { changed: change(call.request.prefix) });
    };
  const implementation: UntypedServiceImplementation = {
    ListPeers: (_call: ServerUnaryCall<unknown, unknown>, done: sendUnaryData<{ peers: ApiPeer[] }>) => {
      done(null, { peers: bgp.peerViews().map(apiPeer) });
    },
    ListRib: (call: ServerWritableStream<ApiRibFilter, ApiRibEntry>) => {
      const { family, prefix } = call.request;
      const problem = checkedFamily(family) ?? (prefix ? checkedPrefix(prefix) : null);
      if (problem) {
        call.emit('error', invalid(problem));
        return;
      }
      for (const route of bgp.routes({ family: family || undefined, prefix: prefix || undefined })) {
        call.write(apiRibEntry(route));
      }
      call.end();
    },
    AddPath: changePath((prefix) => bgp.addPath(prefix)),
    DeletePath: changePath((prefix) => bgp.deletePath(prefix)),
    RefreshPeer: (
      call: ServerUnaryCall<ApiRefreshRequest, unknown>,
      done: sendUnaryData<{ families: string[] }>,
    ) => {
      const { address, family } = call.request;
      const problem = isIP(address)
        ? checkedFamily(family)
        : `address: ${JSON.stringify(address)} is not an IP address`;
      if (problem) {
        done(invalid(problem));
        return;
      }
      try {
        done(null, { families: bgp.refresh(address, family || undefined) });
      } catch (error) {
        done({ code: status.FAILED_PRECONDITION, details: (error as Error).message });
      }
    },
    WatchEvents: (call: ServerWritableStream<unknown, ApiEvent>) => {
      watchers.add(call);
      const stop = bgp.onEvent((event) => call.write(apiEvent(event)));
      call.on('cancelled', () => {
        stop();
        watchers.delete(call);
      });
      // Tells the client it is subscribed: events from now on reach it.
      call.sendMetadata(new Metadata());
    },
  };
  const server = new Server();
  server.addService(bgpService().service, implementation);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(new Error(`cannot serve the API on ${address}: ${error.message}`)) : resolve(bound),
    );
  });
  logger.info('API listening', { address, port });
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        // Watch streams never end on their own; end them so shutdown need not wait for clients.
        for (const call of watchers) call.end();
        server.tryShutdown(() => resolve());
      }),
  };
}
