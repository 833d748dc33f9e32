// The network configuration on stdin, checked up front: a bad one fails with the spec's code and a
// message naming the field, before anything is touched.
//
// {
//   "cniVersion": "1.1.0", "name": "k8s-pod-network", "type": "margay",
//   "etcd_endpoints": "https://10.0.0.1:2379",          // default: ETCD_ENDPOINTS or 127.0.0.1
//   "etcd_ca_cert_file": "...", "etcd_cert_file": "...", "etcd_key_file": "...",
//   "mtu": 1480,                       // veth MTU; default: underlay_mtu less the pool's tunnel overhead
//   "underlay_mtu": 9000, "nodename": "node-1",          // default: 1500, the host name
//   "ipam": { "type": "margay-ipam", "ipv4_pools": ["default-pool"] },
//   "log_level": "info", "log_file_path": "/var/log/margay/cni.log",
//   "dns": { "nameservers": ["10.96.0.10"] },
//   "args": { "margay": { "labels": { "app": "web" } } } // pod labels, merged over MARGAY_POD_LABELS
// }

import { hostname } from 'node:os';
import type { EtcdConfig } from '@margay/datastore';
import { CniError, ERROR_CODES } from './errors';
import { LOG_LEVELS, type LogLevel } from './log';

export const SUPPORTED_VERSIONS = ['0.4.0', '1.0.0', '1.1.0'] as const;
export const PLUGIN_TYPE = 'margay';
export const IPAM_TYPE = 'margay-ipam';
const DEFAULT_UNDERLAY_MTU = 1500;

export interface Attachment {
  containerID: string;
  ifname: string;
}

export interface NetworkConfig {
  cniVersion: string;
  name: string;
  /** Undefined: take etcd's address from the environment (ETCD_ENDPOINTS...). */
  etcd: EtcdConfig | undefined;
  /** The veth MTU the config sets; undefined: derive it from the underlay and the pod's pool. */
  mtu: number | undefined;
  /** MTU of the node's network, before encapsulation. */
  underlayMtu: number;
  nodename: string;
  /** IPAM pools to assign from (names or CIDRs); undefined lets IPAM pick. */
  pools: string[] | undefined;
  logLevel: LogLevel;
  logFile: string | undefined;
  labels: Record<string, string>;
  dns: Record<string, unknown>;
  /** GC: the attachments the runtime still uses (`cni.dev/valid-attachments`). */
  validAttachments: Attachment[];
  /** CHECK and DEL: the result of ADD, as the runtime kept it. */
  prevResult: unknown;
}

/** The version a reply should carry even when the config is unreadable. */
export function requestedVersion(stdin: string): string {
  try {
    const version = (JSON.parse(stdin) as { cniVersion?: unknown }).cniVersion;
    if (typeof version === 'string' && version !== '') return version;
  } catch {
    // unreadable: answer in the newest version
  }
  return SUPPORTED_VERSIONS[SUPPORTED_VERSIONS.length - 1]!;
}

export function parseNetworkConfig(stdin: string): NetworkConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (error) {
    throw new CniError(
      ERROR_CODES.decode,
      `network config on stdin is not JSON: ${(error as Error).message}`,
    );
  }
  const conf = record(raw, 'network config');
  const cniVersion = conf['cniVersion'];
  if (typeof cniVersion !== 'string' || !(SUPPORTED_VERSIONS as readonly string[]).includes(cniVersion)) {
    throw new CniError(
      ERROR_CODES.incompatibleVersion,
      `network config: cniVersion ${JSON.stringify(cniVersion)} is not supported; use one of ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  const name = requiredString(conf, 'name');
  if (conf['type'] !== PLUGIN_TYPE) {
    throw invalid(`type must be "${PLUGIN_TYPE}" (got ${JSON.stringify(conf['type'])})`);
  }
  const ipam = record(conf['ipam'] ?? {}, 'network config: ipam');
  if (ipam['type'] !== undefined && ipam['type'] !== IPAM_TYPE) {
    throw new CniError(
      ERROR_CODES.unsupportedField,
      `network config: ipam.type ${JSON.stringify(ipam['type'])} is not supported; margay assigns addresses itself ("${IPAM_TYPE}")`,
    );
  }
  const logLevel = optionalString(conf, 'log_level') ?? 'warning';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw invalid(`log_level must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(logLevel)})`);
  }
  const runtime = conf['cni.dev/valid-attachments'];
  return {
    cniVersion,
    name,
    etcd: etcdConfig(conf),
    mtu: mtu(conf, 'mtu'),
    underlayMtu: mtu(conf, 'underlay_mtu') ?? DEFAULT_UNDERLAY_MTU,
    nodename: optionalString(conf, 'nodename') ?? hostname(),
    pools: stringList(ipam['ipv4_pools'], 'ipam.ipv4_pools'),
    logLevel: logLevel as LogLevel,
    logFile: optionalString(conf, 'log_file_path'),
    labels: configLabels(conf['args']),
    dns: conf['dns'] === undefined ? {} : record(conf['dns'], 'network config: dns'),
    validAttachments: runtime === undefined ? [] : attachments(runtime),
    prevResult: conf['prevResult'],
  };
}

function etcdConfig(conf: Record<string, unknown>): EtcdConfig | undefined {
  const endpoints = optionalString(conf, 'etcd_endpoints');
  if (endpoints === undefined) return undefined;
  const config: EtcdConfig = { endpoints: endpoints.split(',').map((endpoint) => endpoint.trim()) };
  const caFile = optionalString(conf, 'etcd_ca_cert_file');
  const certFile = optionalString(conf, 'etcd_cert_file');
  const keyFile = optionalString(conf, 'etcd_key_file');
  if (caFile) config.caFile = caFile;
  if (certFile) config.certFile = certFile;
  if (keyFile) config.keyFile = keyFile;
  return config;
}

function mtu(conf: Record<string, unknown>, field: string): number | undefined {
  const value = conf[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 68 || value > 65535) {
    throw invalid(`${field} must be an integer from 68 to 65535 (got ${JSON.stringify(value)})`);
  }
  return value;
}

function configLabels(args: unknown): Record<string, string> {
  if (args === undefined) return {};
  const margay = record(args, 'network config: args')['margay'];
  if (margay === undefined) return {};
  const labels = record(margay, 'network config: args.margay')['labels'];
  if (labels === undefined) return {};
  const entries = Object.entries(record(labels, 'network config: args.margay.labels'));
  for (const [key, value] of entries) {
    if (typeof value !== 'string') throw invalid(`args.margay.labels.${key} must be a string`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

function attachments(value: unknown): Attachment[] {
  if (!Array.isArray(value)) throw invalid('cni.dev/valid-attachments must be a list');
  return value.map((item: unknown, i) => {
    const attachment = record(item, `network config: cni.dev/valid-attachments[${i}]`);
    const { containerID, ifname } = attachment;
    if (typeof containerID !== 'string' || typeof ifname !== 'string') {
      throw invalid(`cni.dev/valid-attachments[${i}] needs string containerID and ifname`);
    }
    return { containerID, ifname };
  });
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string')) {
    throw invalid(`${field} must be a non-empty list of pool names or CIDRs`);
  }
  return value;
}

function requiredString(conf: Record<string, unknown>, field: string): string {
  const value = optionalString(conf, field);
  if (value === undefined || value === '') throw invalid(`${field} is required`);
  return value;
}

function optionalString(conf: Record<string, unknown>, field: string): string | undefined {
  const value = conf[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${field} must be a string (got ${JSON.stringify(value)})`);
  return value;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CniError(ERROR_CODES.invalidNetworkConfig, `${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function invalid(message: string): CniError {
  return new CniError(ERROR_CODES.invalidNetworkConfig, `network config: ${message}`);
}
