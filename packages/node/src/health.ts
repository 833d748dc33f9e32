// Health probes on HTTP: /liveness answers while the process serves requests, /readiness once the
// node has its datastore snapshot and a running BGP speaker. 200 or 503, with a short text body.

import { createServer, type Server } from 'node:http';

export interface Readiness {
  readonly datastoreInSync: boolean;
  readonly bgpSpeakerUp: boolean;
}

export interface HealthResponse {
  readonly status: 200 | 404 | 503;
  readonly body: string;
}

/** The answer to a GET of `path`, given the node's current readiness. */
export function healthResponse(path: string, readiness: Readiness): HealthResponse {
  if (path === '/liveness') return { status: 200, body: 'live\n' };
  if (path !== '/readiness') return { status: 404, body: 'not found: use /liveness or /readiness\n' };
  const missing = [
    ...(readiness.datastoreInSync ? [] : ['datastore not in sync']),
    ...(readiness.bgpSpeakerUp ? [] : ['BGP speaker not up']),
  ];
  return missing.length === 0
    ? { status: 200, body: 'ready\n' }
    : { status: 503, body: `not ready: ${missing.join(', ')}\n` };
}

/** Serves the probes on host:port; resolves once listening. */
export function serveHealth(host: string, port: number, readiness: () => Readiness): Promise<Server> {
  return listen(
    host,
    port,
    createServer((request, response) => {
      const { status, body } = healthResponse(
        new URL(request.url ?? '/', 'http://node').pathname,
        readiness(),
      );
      response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
    }),
  );
}

/** Starts `server` listening; rejects naming the address if it cannot. */
export function listen(host: string, port: number, server: Server): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot listen on ${host}:${port}: ${error.message}`)));
    server.listen(port, host, () => resolve(server));
  });
}
