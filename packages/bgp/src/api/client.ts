// A typed client of the management API, for margayctl and tests. Every call is bounded: an
// unreachable daemon is reported by address instead of hanging.

import { type Client, type ClientReadableStream, credentials, type ServiceError } from '@grpc/grpc-js';
import type { ApiEvent, ApiPeer, ApiRefreshRequest, ApiRibEntry, ApiRibFilter } from './messages';
import { bgpService } from './proto';

type Callback<T> = (error: ServiceError | null, response: T) => void;

interface RawClient extends Client {
  ListPeers(request: object, options: { deadline: Date }, done: Callback<{ peers: ApiPeer[] }>): void;
  ListRib(request: ApiRibFilter, options: { deadline: Date }): ClientReadableStream<ApiRibEntry>;
  AddPath(
    request: { prefix: string },
    options: { deadline: Date },
    done: Callback<{ changed: boolean }>,
  ): void;
  DeletePath(
    request: { prefix: string },
    options: { deadline: Date },
    done: Callback<{ changed: boolean }>,
  ): void;
  RefreshPeer(
    request: ApiRefreshRequest,
    options: { deadline: Date },
    done: Callback<{ families: string[] }>,
  ): void;
  WatchEvents(request: object): ClientReadableStream<ApiEvent>;
}

export interface ClientOptions {
  /** How long to wait for the daemon to answer a call (and for connecting). Default 5000 ms. */
  readonly timeoutMs?: number;
}

export class BgpApiError extends Error {
  override name = 'BgpApiError';
}

export class BgpApiClient {
  private readonly raw: RawClient;
  private readonly timeoutMs: number;

  /** `address` is "host:port" (IPv6 hosts in brackets). */
  constructor(
    readonly address: string,
    options: ClientOptions = {},
  ) {
    const Service = bgpService();
    this.raw = new Service(address, credentials.createInsecure()) as unknown as RawClient;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  /** Resolves once connected; rejects naming the address if that takes longer than the timeout. */
  waitForReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.raw.waitForReady(this.deadline(), (error) => (error ? reject(this.failure(error)) : resolve()));
    });
  }

  async listPeers(): Promise<ApiPeer[]> {
    const response = await this.unary<{ peers: ApiPeer[] }>((d, done) => this.raw.ListPeers({}, d, done));
    return response.peers;
  }

  async listRib(filter: ApiRibFilter = {}): Promise<ApiRibEntry[]> {
    await this.waitForReady();
    const stream = this.raw.ListRib(filter, { deadline: this.deadline() });
    const entries: ApiRibEntry[] = [];
    return new Promise((resolve, reject) => {
      stream.on('data', (entry: ApiRibEntry) => entries.push(entry));
      stream.on('error', (error: ServiceError) => reject(this.failure(error)));
      stream.on('end', () => resolve(entries));
    });
  }

  /** Originates a prefix; resolves with whether anything changed. */
  async addPath(prefix: string): Promise<boolean> {
    return (await this.unary<{ changed: boolean }>((d, done) => this.raw.AddPath({ prefix }, d, done)))
      .changed;
  }

  /** Withdraws a prefix we originate; resolves with whether anything changed. */
  async deletePath(prefix: string): Promise<boolean> {
    return (await this.unary<{ changed: boolean }>((d, done) => this.raw.DeletePath({ prefix }, d, done)))
      .changed;
  }

  /** Asks a peer to re-send its routes (of `family`, or all); resolves with the families asked for. */
  async refreshPeer(address: string, family?: 'ipv4' | 'ipv6'): Promise<string[]> {
    const request: ApiRefreshRequest = { address, family: family ?? '' };
    return (await this.unary<{ families: string[] }>((d, done) => this.raw.RefreshPeer(request, d, done)))
      .families;
  }

  /** Calls `listener` with every event until the returned function is called. */
  async watchEvents(listener: (event: ApiEvent) => void): Promise<() => void> {
    await this.waitForReady();
    const stream = this.raw.WatchEvents({});
    stream.on('data', listener);
    // The server sends metadata once subscribed; a failure before that is a real one.
    await new Promise<void>((resolve, reject) => {
      stream.once('metadata', () => resolve());
      stream.once('error', (error: ServiceError) => reject(this.failure(error)));
    });
    // Cancelling ends the stream with CANCELLED: that is the expected way out.
    stream.on('error', () => {});
    return () => stream.cancel();
  }

  close(): void {
    this.raw.close();
  }

  private deadline(): Date {
    return new Date(Date.now() + this.timeoutMs);
  }

  private async unary<T>(call: (options: { deadline: Date }, done: Callback<T>) => void): Promise<T> {
    await this.waitForReady();
    return new Promise((resolve, reject) => {
      call({ deadline: this.deadline() }, (error, response) =>
        error ? reject(this.failure(error)) : resolve(response),
      );
    });
  }

  private failure(error: Error): BgpApiError {
    const details = (error as Partial<ServiceError>).details || error.message;
    if (/deadline|timed? ?out|unavailable/i.test(error.message)) {
      return new BgpApiError(
        `cannot reach the margay-bgpd API at ${this.address} within ${this.timeoutMs / 1000}s (${details})`,
      );
    }
    return new BgpApiError(`margay-bgpd API at ${this.address}: ${details}`);
  }
}
