// How to reach etcd: endpoints and TLS files, from code or from the environment, checked up front
// so that a bad setting fails with a message naming it instead of as a hung or refused connection.
import { readFileSync } from 'node:fs';
import type { IOptions } from 'etcd3';

export interface EtcdConfig {
  /** Client URLs, all http:// or all https://, each with a port, e.g. http://127.0.0.1:2379. */
  endpoints: string[];
  /** PEM file of the CA that signed etcd's server certificate (https endpoints). */
  caFile?: string;
  /** PEM client certificate and key, for etcd's client-certificate authentication; need caFile. */
  certFile?: string;
  keyFile?: string;
  /** Longest wait for one request, connecting included (default 10 s); watches stay open. */
  dialTimeoutMs?: number;
}

const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';
const DEFAULT_DIAL_TIMEOUT_MS = 10_000;

/** ETCD_ENDPOINTS (comma-separated), ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE; empty means unset. */
export function etcdConfigFromEnv(env: NodeJS.ProcessEnv = process.env): EtcdConfig {
  const endpoints = env['ETCD_ENDPOINTS']?.trim() || DEFAULT_ETCD_ENDPOINT;
  const config: EtcdConfig = { endpoints: endpoints.split(',').map((endpoint) => endpoint.trim()) };
  const caFile = env['ETCD_CA_CERT_FILE']?.trim();
  const certFile = env['ETCD_CERT_FILE']?.trim();
  const keyFile = env['ETCD_KEY_FILE']?.trim();
  if (caFile) config.caFile = caFile;
  if (certFile) config.certFile = certFile;
  if (keyFile) config.keyFile = keyFile;
  return config;
}

/** A checked EtcdConfig: the etcd3 client options, plus what the store needs to know itself. */
export interface EtcdClientSettings {
  /** The endpoints as etcd3 wants them: scheme://host:port. */
  hosts: string[];
  timeoutMs: number;
  clientOptions: IOptions;
}

/** Check `config` and read its TLS files; throws a message naming the bad setting. */
export function etcdClientSettings(config: EtcdConfig): EtcdClientSettings {
  const hosts = checkEndpoints(config.endpoints);
  const secure = hosts[0]!.startsWith('https:');
  const timeoutMs = config.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new Error(`etcd config: dialTimeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }
  if ((config.certFile === undefined) !== (config.keyFile === undefined)) {
    throw new Error('etcd config: certFile and keyFile go together; give both or neither');
  }
  if (config.certFile !== undefined && config.caFile === undefined) {
    throw new Error("etcd config: certFile and keyFile need caFile (the CA that signed etcd's certificate)");
  }
  if (config.caFile !== undefined && !secure) {
    throw new Error(`etcd config: TLS files are given but the endpoints use http:// (${hosts.join(', ')})`);
  }
  const clientOptions: IOptions = {
    hosts,
    // Bound every request so that an unreachable etcd fails instead of hanging; streams stay open.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
  };
  if (config.caFile !== undefined) {
    clientOptions.credentials = {
      rootCertificate: readPem('caFile', config.caFile),
      ...(config.certFile !== undefined && {
        certChain: readPem('certFile', config.certFile),
        privateKey: readPem('keyFile', config.keyFile!),
      }),
    };
  }
  return { hosts, timeoutMs, clientOptions };
}

/** The endpoints as etcd3 wants them (scheme://host:port), all of one scheme. */
function checkEndpoints(endpoints: unknown): string[] {
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    throw new Error(`etcd config: endpoints must list at least one URL, e.g. ${DEFAULT_ETCD_ENDPOINT}`);
  }
  const hosts = endpoints.map((endpoint: unknown, i) => {
    const where = `etcd config: endpoints[${i}] ${JSON.stringify(endpoint)}`;
    let url: URL;
    try {
      url = new URL(String(endpoint));
    } catch {
      throw new Error(`${where} is not a URL; expected e.g. ${DEFAULT_ETCD_ENDPOINT}`);
    }
    if (url.protocol === 'unix:') {
      // etcd serving on a socket file of this host (`--listen-client-urls unix://...`).
      if (url.host !== '' || url.pathname.length < 2 || url.search || url.hash) {
        throw new Error(
          `${where} must be unix:// and the socket's absolute path, e.g. unix:///run/etcd.sock`,
        );
      }
      return `unix://${url.pathname}`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`${where} must use http://, https:// or unix://`);
    }
    const port = url.port || /:(\d+)\/?$/.exec(String(endpoint))?.[1];
    if (!port) throw new Error(`${where} must name a port, e.g. ${DEFAULT_ETCD_ENDPOINT}`);
    if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
      throw new Error(`${where} must be just scheme://host:port`);
    }
    return `${url.protocol}//${url.hostname}:${port}`;
  });
  if (new Set(hosts.map((host) => host.startsWith('https:'))).size > 1) {
    throw new Error(`etcd config: endpoints mix http:// and https:// (${hosts.join(', ')}); use one scheme`);
  }
  return hosts;
}

function readPem(setting: string, file: string): Buffer {
  let content: Buffer;
  try {
    content = readFileSync(file);
  } catch (error) {
    throw new Error(`etcd config: cannot read ${setting} ${file}: ${(error as Error).message}`);
  }
  if (!content.includes('-----BEGIN')) throw new Error(`etcd config: ${setting} ${file} is not a PEM file`);
  return content;
}
