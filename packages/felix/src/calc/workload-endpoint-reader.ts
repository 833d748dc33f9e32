// A fast reader for stored WorkloadEndpoints, the bulk of what felix lists at start (10,000 and
// more): the full schema validation cost more than all of felix's calc. Every stored value was
// validated on write, so this checks only the fields felix reads (types, and canonical IPv4
// networks) and returns a resource holding only those; anything it is unsure of returns undefined,
// and the caller validates the value in full, so a bad value still gets the schema's error naming
// the field. Fields felix does not read are left out, never passed on unchecked.

import { API_VERSION, CALICO_API_VERSION, type EndpointPort, type WorkloadEndpoint } from '@margay/api';

type Fields = Record<string, unknown>;

/** The endpoint with the fields felix reads, or undefined when it needs full validation. */
export function readWorkloadEndpoint(value: unknown): WorkloadEndpoint | undefined {
  if (!isRecord(value) || value['kind'] !== 'WorkloadEndpoint') return undefined;
  if (value['apiVersion'] !== API_VERSION && value['apiVersion'] !== CALICO_API_VERSION) return undefined;
  const { metadata, spec } = value;
  if (!isRecord(metadata) || !isRecord(spec)) return undefined;
  const { name, namespace, labels } = metadata;
  if (!isNonEmptyString(name) || !(namespace === undefined || isNonEmptyString(namespace))) return undefined;
  if (!(labels === undefined || isStringRecord(labels))) return undefined;
  const { node, interfaceName, ipNetworks, profiles, ports } = spec;
  if (!isNonEmptyString(node) || !isNonEmptyString(interfaceName)) return undefined;
  if (!(ipNetworks === undefined || allCanonicalIpv4Nets(ipNetworks))) return undefined;
  if (!(profiles === undefined || allNonEmptyStrings(profiles))) return undefined;
  const readPorts = ports === undefined ? undefined : readEndpointPorts(ports);
  if (ports !== undefined && readPorts === undefined) return undefined;
  // Built field by field rather than with conditional spreads: the same objects, for less code in
  // a function V8 optimizes at every start.
  const readMetadata: WorkloadEndpoint['metadata'] = { name, namespace: namespace ?? 'default' };
  if (labels !== undefined) readMetadata.labels = labels as Record<string, string>;
  const readSpec: WorkloadEndpoint['spec'] = {
    node,
    interfaceName,
    ipNetworks: (ipNetworks ?? []) as string[],
  };
  if (profiles !== undefined) readSpec.profiles = profiles as string[];
  if (readPorts !== undefined) readSpec.ports = readPorts;
  return { apiVersion: API_VERSION, kind: 'WorkloadEndpoint', metadata: readMetadata, spec: readSpec };
}

function allCanonicalIpv4Nets(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const net of value) if (!isCanonicalIpv4Net(net)) return false;
  return true;
}

function allNonEmptyStrings(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (!isNonEmptyString(item)) return false;
  return true;
}

function readEndpointPorts(ports: unknown): EndpointPort[] | undefined {
  if (!Array.isArray(ports)) return undefined;
  const read: EndpointPort[] = [];
  for (const port of ports) {
    if (!isRecord(port) || !isNonEmptyString(port['name'])) return undefined;
    const protocol = port['protocol'];
    if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') return undefined;
    const number = port['port'];
    if (!Number.isInteger(number) || (number as number) < 1 || (number as number) > 65535) return undefined;
    read.push({ name: port['name'], protocol, port: number as number });
  }
  return read;
}

/**
 * "a.b.c.d/n" exactly as the schema would output it: no leading zeros, host bits clear. A scan of
 * the character codes, not a regular expression: it runs for each of 10,000 endpoints at start,
 * and a match would allocate an array and five strings each time.
 */
export function isCanonicalIpv4Net(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  let at = 0;
  let address = 0;
  for (let octet = 0; octet < 4; octet++) {
    const read = readDecimal(value, at, 3);
    if (read === undefined || read.value > 255) return false;
    address = address * 256 + read.value;
    at = read.end;
    if (value.charCodeAt(at) !== (octet < 3 ? DOT : SLASH)) return false;
    at++;
  }
  const length = readDecimal(value, at, 2);
  if (length === undefined || length.end !== value.length || length.value > 32) return false;
  return address % 2 ** (32 - length.value) === 0;
}

const DOT = 46;
const SLASH = 47;
const ZERO = 48;
const NINE = 57;
/** Reused by readDecimal: it is read before the next call. */
const decimal = { value: 0, end: 0 };

/** 1 to `maxDigits` ASCII digits from `start`, without a leading zero; undefined if there are none. */
function readDecimal(text: string, start: number, maxDigits: number): typeof decimal | undefined {
  let value = 0;
  let at = start;
  while (at < text.length) {
    const code = text.charCodeAt(at);
    if (code < ZERO || code > NINE) break;
    value = value * 10 + (code - ZERO);
    at++;
  }
  const digits = at - start;
  if (digits === 0 || digits > maxDigits || (digits > 1 && text.charCodeAt(start) === ZERO)) return undefined;
  decimal.value = value;
  decimal.end = at;
  return decimal;
}

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

function isStringRecord(value: unknown): boolean {
  if (!isRecord(value)) return false;
  for (const key in value) if (typeof value[key] !== 'string') return false;
  return true;
}
