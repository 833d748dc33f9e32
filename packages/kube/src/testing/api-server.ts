// An in-process Kubernetes API server for tests: real HTTP speaking the list/watch protocol for
// namespaces, nodes, pods and networking.k8s.io/v1 networkpolicies, so that @kubernetes/client-node
// informers run against it unchanged. What it implements, as the real server does:
//
// - LIST returns every object and the current `metadata.resourceVersion` (one counter for all kinds).
// - WATCH (`?watch=true|1&resourceVersion=N`) replays the events after N from its history, then
//   streams new ones as JSON lines (ADDED / MODIFIED / DELETED); without N (or with 0) it starts
//   with an ADDED event per object. With `allowWatchBookmarks=true` it sends BOOKMARK events when
//   asked to (bookmark()).
// - A resourceVersion older than the compacted history gets an ERROR event carrying a 410 Gone
//   Status (or, with `goneAs: 'http'`, an HTTP 410 response), after which clients must relist.
//
// Test knobs: create/update/remove objects, compact the history, drop open watches (cleanly or by
// destroying the sockets), refuse watches for a while, count the requests per kind.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export type Plural = 'namespaces' | 'nodes' | 'pods' | 'networkpolicies';

interface ResourceType {
  /** `/api/v1` or `/apis/<group>/<version>`. */
  prefix: string;
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

const TYPES: Record<Plural, ResourceType> = {
  namespaces: { prefix: '/api/v1', apiVersion: 'v1', kind: 'Namespace', namespaced: false },
  nodes: { prefix: '/api/v1', apiVersion: 'v1', kind: 'Node', namespaced: false },
  pods: { prefix: '/api/v1', apiVersion: 'v1', kind: 'Pod', namespaced: true },
  networkpolicies: {
    prefix: '/apis/networking.k8s.io/v1',
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    namespaced: true,
  },
};

export interface KubeTestObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [field: string]: unknown };
  [field: string]: unknown;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface HistoryEvent {
  resourceVersion: number;
  plural: Plural;
  type: EventType;
  object: KubeTestObject;
}

interface OpenWatch {
  plural: Plural;
  namespace: string | undefined;
  bookmarks: boolean;
  response: ServerResponse;
}

export interface FakeApiServerOptions {
  /** How a too-old resourceVersion is refused: an ERROR watch event (default, like the real server) or HTTP 410. */
  goneAs?: 'event' | 'http';
}

export interface RequestRecord {
  plural: Plural;
  verb: 'list' | 'watch' | 'get';
  query: Record<string, string>;
}

export class FakeKubeApiServer {
  /** Every list/watch/get request served, in order. */
  readonly requests: RequestRecord[] = [];
  private readonly objects = new Map<Plural, Map<string, KubeTestObject>>();
  private history: HistoryEvent[] = [];
  private resourceVersion = 1000;
  /** Events at or before this resourceVersion are gone from the history. */
  private compactedAt = 1000;
  private readonly watches = new Set<OpenWatch>();
  private refusingWatches = false;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly goneAs: 'event' | 'http',
  ) {}

  static async start(options: FakeApiServerOptions = {}): Promise<FakeKubeApiServer> {
    let instance: FakeKubeApiServer | undefined;
    const server = createServer((request, response) => instance!.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    instance = new FakeKubeApiServer(server, `http://127.0.0.1:${port}`, options.goneAs ?? 'event');
    return instance;
  }

  /** A KubeConfig whose current context is this server (plain HTTP, no credentials). */
  kubeConfig(): KubeConfig {
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'tester' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'tester' }],
      currentContext: 'fake',
    });
    return config;
  }

  /** Creates the object (it must not exist); returns it as stored, resourceVersion and uid set. */
  create(plural: Plural, object: KubeTestObject): KubeTestObject {
    const key = this.keyOf(plural, object);
    if (this.store(plural).has(key)) throw new Error(`fake API server: ${plural} ${key} already exists`);
    const stored = this.stamp(plural, object, {
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString(),
    });
    this.store(plural).set(key, stored);
    this.emit(plural, 'ADDED', stored);
    return stored;
  }

  /** Replaces the object (it must exist); uid and creationTimestamp are kept. */
  update(plural: Plural, object: KubeTestObject): KubeTestObject {
    const key = this.keyOf(plural, object);
    const current = this.store(plural).get(key);
    if (!current) throw new Error(`fake API server: ${plural} ${key} does not exist`);
    const stored = this.stamp(plural, object, {
      uid: current.metadata['uid'],
      creationTimestamp: current.metadata['creationTimestamp'],
    });
    this.store(plural).set(key, stored);
    this.emit(plural, 'MODIFIED', stored);
    return stored;
  }

  /** Deletes the object (it must exist). */
  remove(plural: Plural, name: string, namespace?: string): void {
    const key = namespace === undefined ? name : `${namespace}/${name}`;
    const current = this.store(plural).get(key);
    if (!current) throw new Error(`fake API server: ${plural} ${key} does not exist`);
    this.store(plural).delete(key);
    const gone = this.stamp(plural, current, {});
    this.emit(plural, 'DELETED', gone);
  }

  get(plural: Plural, name: string, namespace?: string): KubeTestObject | undefined {
    return this.store(plural).get(namespace === undefined ? name : `${namespace}/${name}`);
  }

  currentResourceVersion(): string {
    return String(this.resourceVersion);
  }

  /** Forgets the event history: a watch from any earlier resourceVersion now gets 410 Gone. */
  compact(): void {
    this.compactedAt = this.resourceVersion;
    this.history = [];
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watch that allowed bookmarks. */
  bookmark(): number {
    let sent = 0;
    for (const watch of this.watches) {
      if (!watch.bookmarks) continue;
      const { apiVersion, kind } = TYPES[watch.plural];
      this.send(watch, 'BOOKMARK', {
        apiVersion,
        kind,
        metadata: { resourceVersion: String(this.resourceVersion) },
      });
      sent++;
    }
    return sent;
  }

  /** Ends every open watch: cleanly (the response ends) or abruptly (the socket is destroyed). */
  dropWatches(how: 'end' | 'destroy' = 'end'): number {
    const dropped = this.watches.size;
    for (const watch of this.watches) {
      if (how === 'end') watch.response.end();
      else watch.response.socket?.destroy();
    }
    this.watches.clear();
    return dropped;
  }

  /** While refusing, watch requests get 503 Service Unavailable (lists still work). */
  refuseWatches(refuse: boolean): void {
    this.refusingWatches = refuse;
  }

  /** Watches open now, per kind. */
  openWatches(plural: Plural): number {
    return [...this.watches].filter((watch) => watch.plural === plural).length;
  }

  count(plural: Plural, verb: RequestRecord['verb']): number {
    return this.requests.filter((r) => r.plural === plural && r.verb === verb).length;
  }

  async close(): Promise<void> {
    this.dropWatches('destroy');
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private store(plural: Plural): Map<string, KubeTestObject> {
    let objects = this.objects.get(plural);
    if (!objects) {
      objects = new Map();
      this.objects.set(plural, objects);
    }
    return objects;
  }

  private keyOf(plural: Plural, object: KubeTestObject): string {
    const { name, namespace } = object.metadata ?? {};
    if (typeof name !== 'string' || name === '')
      throw new Error(`fake API server: ${plural} object without metadata.name`);
    if (TYPES[plural].namespaced !== (namespace !== undefined)) {
      throw new Error(
        `fake API server: ${plural} ${name}: ${TYPES[plural].namespaced ? 'needs' : 'takes no'} metadata.namespace`,
      );
    }
    return namespace === undefined ? name : `${namespace}/${name}`;
  }

  /** A copy with kind, apiVersion and a new resourceVersion (one counter for every kind, like etcd's). */
  private stamp(plural: Plural, object: KubeTestObject, identity: Record<string, unknown>): KubeTestObject {
    this.resourceVersion++;
    const { apiVersion, kind } = TYPES[plural];
    const copy = structuredClone(object);
    return {
      ...copy,
      apiVersion,
      kind,
      metadata: { ...copy.metadata, ...identity, resourceVersion: String(this.resourceVersion) },
    };
  }

  private emit(plural: Plural, type: EventType, object: KubeTestObject): void {
    const event = { resourceVersion: this.resourceVersion, plural, type, object };
    this.history.push(event);
    for (const watch of this.watches) {
      if (matches(watch, event)) this.send(watch, type, object);
    }
  }

  private send(watch: OpenWatch, type: string, object: unknown): void {
    watch.response.write(`${JSON.stringify({ type, object })}\n`);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', this.url);
    const query = Object.fromEntries(url.searchParams);
    const route = parsePath(url.pathname);
    if (request.method !== 'GET' || route === undefined) {
      status(response, 404, 'NotFound', `the server could not find ${request.method} ${url.pathname}`);
      return;
    }
    const { plural, namespace, name } = route;
    if (name !== undefined) {
      this.requests.push({ plural, verb: 'get', query });
      const object = this.get(plural, name, namespace);
      if (object) json(response, 200, object);
      else status(response, 404, 'NotFound', `${plural} "${name}" not found`);
      return;
    }
    const watching = query['watch'] === 'true' || query['watch'] === '1';
    this.requests.push({ plural, verb: watching ? 'watch' : 'list', query });
    if (watching) this.watch(response, plural, namespace, query);
    else this.list(response, plural, namespace);
  }

  private list(response: ServerResponse, plural: Plural, namespace: string | undefined): void {
    const { apiVersion, kind } = TYPES[plural];
    // Items of a real list carry neither kind nor apiVersion: the list does.
    const items = this.current(plural, namespace).map(({ kind: _k, apiVersion: _a, ...item }) => item);
    json(response, 200, {
      apiVersion,
      kind: `${kind}List`,
      metadata: { resourceVersion: String(this.resourceVersion) },
      items,
    });
  }

  private watch(
    response: ServerResponse,
    plural: Plural,
    namespace: string | undefined,
    query: Record<string, string>,
  ): void {
    if (this.refusingWatches) {
      status(response, 503, 'ServiceUnavailable', 'watches are refused for now');
      return;
    }
    const from = query['resourceVersion'];
    const watch: OpenWatch = {
      plural,
      namespace,
      bookmarks: query['allowWatchBookmarks'] === 'true',
      response,
    };
    let replay: { type: string; object: unknown }[];
    if (from === undefined || from === '' || from === '0') {
      replay = this.current(plural, namespace).map((object) => ({ type: 'ADDED', object }));
    } else {
      const version = Number(from);
      if (!Number.isInteger(version) || version < 0) {
        status(response, 400, 'BadRequest', `invalid resourceVersion "${from}"`);
        return;
      }
      if (version < this.compactedAt) {
        const message = `too old resource version: ${version} (${this.compactedAt})`;
        if (this.goneAs === 'http') {
          status(response, 410, 'Expired', message);
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        this.send(watch, 'ERROR', statusObject(410, 'Expired', message));
        response.end();
        return;
      }
      replay = this.history
        .filter((event) => event.resourceVersion > version && matches(watch, event))
        .map(({ type, object }) => ({ type, object }));
    }
    response.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    response.flushHeaders();
    for (const { type, object } of replay) this.send(watch, type, object);
    this.watches.add(watch);
    response.on('close', () => this.watches.delete(watch));
  }

  private current(plural: Plural, namespace: string | undefined): KubeTestObject[] {
    return [...this.store(plural).entries()]
      .filter(([, object]) => namespace === undefined || object.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object);
  }
}

function matches(watch: OpenWatch, event: HistoryEvent): boolean {
  return (
    watch.plural === event.plural &&
    (watch.namespace === undefined || watch.namespace === event.object.metadata.namespace)
  );
}

/** `/api/v1/pods`, `/api/v1/namespaces/<ns>/pods`, `/api/v1/namespaces/<name>`, `/apis/.../<ns>/...`. */
function parsePath(path: string): { plural: Plural; namespace?: string; name?: string } | undefined {
  for (const [plural, type] of Object.entries(TYPES) as [Plural, ResourceType][]) {
    if (!path.startsWith(`${type.prefix}/`)) continue;
    const parts = path
      .slice(type.prefix.length + 1)
      .split('/')
      .filter(Boolean);
    if (parts[0] === plural && parts.length <= 2) return { plural, ...(parts[1] && { name: parts[1] }) };
    if (type.namespaced && parts[0] === 'namespaces' && parts[2] === plural && parts.length <= 4) {
      return { plural, namespace: parts[1], ...(parts[3] && { name: parts[3] }) };
    }
  }
  return undefined;
}

function statusObject(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function status(response: ServerResponse, code: number, reason: string, message: string): void {
  json(response, code, statusObject(code, reason, message));
}

function json(response: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
