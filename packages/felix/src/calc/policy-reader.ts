// A fast reader for stored NetworkPolicies, GlobalNetworkPolicies and Profiles. On a cold start
// the full zod schema cost ~45–80 ms for 1,000 policies, a tenth of felix's time before its first
// apply. Unlike the endpoint reader, felix reads nearly every field of a policy (its rules are
// rendered in full), so this one returns exactly what the schema returns: it checks every field
// the schema checks, with the same rules (names, labels, selectors that parse, ports, protocols,
// the type and flag combinations), but only in the canonical form the schema itself writes (what
// margayctl stored). Anything else (a field spelled differently, an IPv6 or bare-address net, a
// port written as text, ICMP matches, service accounts, rule annotations, an unknown field)
// returns undefined, and the caller validates the value in full, so a bad value still gets the
// schema's error naming the field. policy-reader.test.ts checks it against the schema on random
// valid and mutated values.

import {
  API_VERSION,
  CALICO_API_VERSION,
  DEFAULT_NAMESPACE,
  DEFAULT_TIER,
  dnsLabelProblem,
  dnsSubdomainProblem,
  type GlobalNetworkPolicy,
  labelKeyProblem,
  labelValueProblem,
  type NetworkPolicy,
  type ObjectMeta,
  type PolicyType,
  PROTOCOL_NAMES,
  type Profile,
  parseSelector,
  portNameProblem,
  RULE_ACTIONS,
  type Rule,
} from '@margay/api';
import { isCanonicalIpv4Net } from './workload-endpoint-reader';

type Fields = Record<string, unknown>;
export type PolicyResource = NetworkPolicy | GlobalNetworkPolicy | Profile;

/** The policy or profile as the full schema would return it, or undefined when it needs full validation. */
export function readPolicyResource(value: unknown): PolicyResource | undefined {
  if (!isRecord(value) || !onlyKeys(value, ENVELOPE_KEYS)) return undefined;
  const { apiVersion, kind } = value;
  if (apiVersion !== API_VERSION && apiVersion !== CALICO_API_VERSION) return undefined;
  if (kind !== 'NetworkPolicy' && kind !== 'GlobalNetworkPolicy' && kind !== 'Profile') return undefined;
  const namespaced = kind === 'NetworkPolicy';
  const metadata = readMetadata(value['metadata'], namespaced);
  // The schema reads a missing (or null) spec as {}, so that its defaults apply.
  const spec = value['spec'] ?? {};
  if (metadata === undefined || !isRecord(spec)) return undefined;
  if (kind === 'Profile') {
    const profileSpec = readProfileSpec(spec);
    return profileSpec && { apiVersion: API_VERSION, kind, metadata, spec: profileSpec };
  }
  const policySpec = readPolicySpec(spec, kind === 'GlobalNetworkPolicy');
  if (policySpec === undefined) return undefined;
  return { apiVersion: API_VERSION, kind, metadata, spec: policySpec } as NetworkPolicy | GlobalNetworkPolicy;
}

const ENVELOPE_KEYS = new Set(['apiVersion', 'kind', 'metadata', 'spec']);
const METADATA_KEYS = new Set([
  'name',
  'namespace',
  'labels',
  'annotations',
  'uid',
  'creationTimestamp',
  'resourceVersion',
]);

function readMetadata(value: unknown, namespaced: boolean): ObjectMeta | undefined {
  if (!isRecord(value) || !onlyKeys(value, METADATA_KEYS)) return undefined;
  const { name, namespace, labels, annotations, uid, creationTimestamp, resourceVersion } = value;
  if (typeof name !== 'string' || dnsSubdomainProblem(name) !== undefined) return undefined;
  if (namespace !== undefined) {
    if (!namespaced || typeof namespace !== 'string' || dnsLabelProblem(namespace) !== undefined) {
      return undefined;
    }
  }
  if (labels !== undefined && !isLabels(labels)) return undefined;
  if (annotations !== undefined && !isAnnotations(annotations)) return undefined;
  if (!isOptionalString(uid) || !isOptionalString(creationTimestamp) || !isOptionalString(resourceVersion)) {
    return undefined;
  }
  const metadata = value as unknown as ObjectMeta;
  return namespaced && namespace === undefined ? { ...metadata, namespace: DEFAULT_NAMESPACE } : metadata;
}

const POLICY_KEYS = new Set([
  'tier',
  'order',
  'selector',
  'types',
  'ingress',
  'egress',
  'serviceAccountSelector',
]);
const GLOBAL_POLICY_KEYS = new Set([
  ...POLICY_KEYS,
  'namespaceSelector',
  'doNotTrack',
  'preDNAT',
  'applyOnForward',
]);

type PolicySpec = NetworkPolicy['spec'] | GlobalNetworkPolicy['spec'];

/** The spec with the schema's defaults, in the schema's field order; undefined when unsure. */
function readPolicySpec(spec: Fields, global: boolean): PolicySpec | undefined {
  if (!onlyKeys(spec, global ? GLOBAL_POLICY_KEYS : POLICY_KEYS)) return undefined;
  const { tier, order, selector, types, ingress, egress, serviceAccountSelector } = spec;
  if (tier !== undefined && (typeof tier !== 'string' || dnsSubdomainProblem(tier) !== undefined)) {
    return undefined;
  }
  if (order !== undefined && !(typeof order === 'number' && Number.isFinite(order))) return undefined;
  if (selector !== undefined && !isSelector(selector)) return undefined;
  if (serviceAccountSelector !== undefined && !isSelector(serviceAccountSelector)) return undefined;
  if (types !== undefined && !(Array.isArray(types) && types.every(isPolicyType))) return undefined;
  const ingressRules = ingress === undefined ? [] : readRules(ingress);
  const egressRules = egress === undefined ? [] : readRules(egress);
  if (ingressRules === undefined || egressRules === undefined) return undefined;
  if (!typesAgree(types as PolicyType[] | undefined, ingressRules, egressRules)) return undefined;
  const read: Fields = { tier: tier ?? DEFAULT_TIER };
  if (order !== undefined) read['order'] = order;
  read['selector'] = selector ?? 'all()';
  if (types !== undefined) read['types'] = types;
  read['ingress'] = ingressRules;
  read['egress'] = egressRules;
  if (serviceAccountSelector !== undefined) read['serviceAccountSelector'] = serviceAccountSelector;
  if (global) {
    const { namespaceSelector } = spec;
    if (namespaceSelector !== undefined && !isSelector(namespaceSelector)) return undefined;
    const doNotTrack = readFlag(spec['doNotTrack']);
    const preDNAT = readFlag(spec['preDNAT']);
    const applyOnForward = readFlag(spec['applyOnForward']);
    if (doNotTrack === undefined || preDNAT === undefined || applyOnForward === undefined) return undefined;
    if (doNotTrack && preDNAT) return undefined;
    if ((doNotTrack || preDNAT) && !applyOnForward) return undefined;
    if (preDNAT && (egressRules.length > 0 || (types as PolicyType[] | undefined)?.includes('Egress'))) {
      return undefined;
    }
    if (namespaceSelector !== undefined) read['namespaceSelector'] = namespaceSelector;
    Object.assign(read, { doNotTrack, preDNAT, applyOnForward });
  }
  return {
    ...read,
    types: inferredTypes(types as PolicyType[] | undefined, ingressRules, egressRules),
  } as PolicySpec;
}

/** The schema's check of listed types: no repeats, and none of the rules left without its type. */
function typesAgree(types: PolicyType[] | undefined, ingress: Rule[], egress: Rule[]): boolean {
  if (types === undefined || types.length === 0) return true;
  if (new Set(types).size !== types.length) return false;
  if (ingress.length > 0 && !types.includes('Ingress')) return false;
  return !(egress.length > 0 && !types.includes('Egress'));
}

/** Calico's inference when types is unset or empty: Ingress unless the policy has only egress rules. */
function inferredTypes(types: PolicyType[] | undefined, ingress: Rule[], egress: Rule[]): PolicyType[] {
  if (types !== undefined && types.length > 0) return types;
  const inferred: PolicyType[] = [];
  if (ingress.length > 0 || egress.length === 0) inferred.push('Ingress');
  if (egress.length > 0) inferred.push('Egress');
  return inferred;
}

const PROFILE_KEYS = new Set(['ingress', 'egress', 'labelsToApply']);

function readProfileSpec(spec: Fields): Profile['spec'] | undefined {
  if (!onlyKeys(spec, PROFILE_KEYS)) return undefined;
  const { ingress, egress, labelsToApply } = spec;
  const ingressRules = ingress === undefined ? [] : readRules(ingress);
  const egressRules = egress === undefined ? [] : readRules(egress);
  if (ingressRules === undefined || egressRules === undefined) return undefined;
  if (labelsToApply !== undefined && !isLabels(labelsToApply)) return undefined;
  return {
    ingress: ingressRules,
    egress: egressRules,
    ...(labelsToApply !== undefined && { labelsToApply: labelsToApply as Record<string, string> }),
  };
}

// Rules: ICMP matches and rule metadata are left to the schema (rare, and their checks are subtle).
const RULE_KEYS = new Set(['action', 'ipVersion', 'protocol', 'notProtocol', 'source', 'destination']);
const ENTITY_KEYS = new Set([
  'nets',
  'notNets',
  'selector',
  'notSelector',
  'namespaceSelector',
  'ports',
  'notPorts',
]);
const ACTIONS: ReadonlySet<unknown> = new Set(RULE_ACTIONS);
const PROTOCOLS = new Set<unknown>(PROTOCOL_NAMES);
/** Protocols a rule with ports may have (the schema's PORT_PROTOCOLS). */
const PORT_PROTOCOLS = new Set<unknown>(['TCP', 'UDP', 'SCTP', 'UDPLite', 6, 17, 132, 136]);

/** The rules as they are (the schema would return them unchanged), or undefined. */
function readRules(value: unknown): Rule[] | undefined {
  if (!Array.isArray(value)) return undefined;
  for (const rule of value) if (!isCanonicalRule(rule)) return undefined;
  return value as Rule[];
}

function isCanonicalRule(rule: unknown): boolean {
  if (!isRecord(rule) || !onlyKeys(rule, RULE_KEYS)) return false;
  const { action, ipVersion, protocol, notProtocol, source, destination } = rule;
  if (!ACTIONS.has(action)) return false;
  if (ipVersion !== undefined && ipVersion !== 4 && ipVersion !== 6) return false;
  if (protocol !== undefined && !isCanonicalProtocol(protocol)) return false;
  if (notProtocol !== undefined && !isCanonicalProtocol(notProtocol)) return false;
  return (
    (source === undefined || isCanonicalEntity(source, protocol, ipVersion)) &&
    (destination === undefined || isCanonicalEntity(destination, protocol, ipVersion))
  );
}

/** Calico's spelling of a protocol name, or a protocol number 1–255 as a number. */
function isCanonicalProtocol(value: unknown): boolean {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 1 && value <= 255;
  return PROTOCOLS.has(value);
}

/** A source or destination, checked with the rule's protocol and IP version as the schema does. */
function isCanonicalEntity(value: unknown, protocol: unknown, ipVersion: unknown): boolean {
  if (!isRecord(value) || !onlyKeys(value, ENTITY_KEYS)) return false;
  const { nets, notNets, selector, notSelector, namespaceSelector, ports, notPorts } = value;
  if (!isOptionalList(nets, isCanonicalIpv4Net) || !isOptionalList(notNets, isCanonicalIpv4Net)) return false;
  if (!isOptionalSelector(selector) || !isOptionalSelector(notSelector)) return false;
  if (!isOptionalSelector(namespaceSelector)) return false;
  if (!isOptionalList(ports, isCanonicalPort) || !isOptionalList(notPorts, isCanonicalPort)) return false;
  // Ports need a port protocol; only IPv4 nets get here, and an IPv6 rule may not have them.
  const hasPorts = (ports as unknown[] | undefined)?.length || (notPorts as unknown[] | undefined)?.length;
  if (hasPorts && !PORT_PROTOCOLS.has(protocol)) return false;
  const hasNets = (nets as unknown[] | undefined)?.length || (notNets as unknown[] | undefined)?.length;
  return !(hasNets && ipVersion === 6);
}

function isOptionalList(value: unknown, isItem: (item: unknown) => boolean): boolean {
  if (value === undefined) return true;
  if (!Array.isArray(value)) return false;
  for (const item of value) if (!isItem(item)) return false;
  return true;
}

const isOptionalSelector = (value: unknown) => value === undefined || isSelector(value);
const isOptionalString = (value: unknown) => value === undefined || typeof value === 'string';

/** A GlobalNetworkPolicy flag with its default (false); undefined when it is not a boolean. */
function readFlag(value: unknown): boolean | undefined {
  if (value === undefined) return false;
  return typeof value === 'boolean' ? value : undefined;
}

const PORT_RANGE = /^(\d+):(\d+)$/;

/** A port as the schema outputs it: a number 1–65535, "from:to" without leading zeros, or a port name. */
export function isCanonicalPort(value: unknown): boolean {
  if (typeof value === 'number') return isPortNumber(value);
  if (typeof value !== 'string') return false;
  const range = PORT_RANGE.exec(value);
  if (range !== null) {
    const from = Number(range[1]);
    const to = Number(range[2]);
    return isPortNumber(from) && isPortNumber(to) && from <= to && value === `${from}:${to}`;
  }
  // Digits alone are a number written as text (the schema outputs a number); a name has a letter.
  return portNameProblem(value) === undefined;
}

const isPortNumber = (n: number) => Number.isInteger(n) && n >= 1 && n <= 65535;

/**
 * Selector texts known to parse. Parsing is pure, and 1,000 policies repeat a few hundred
 * selectors, so each text is parsed once; bounded so that a churn of distinct selectors cannot
 * grow it without end.
 */
const parsedSelectors = new Set<string>();
const MAX_REMEMBERED_SELECTORS = 10_000;

function isSelector(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (parsedSelectors.has(value)) return true;
  try {
    parseSelector(value);
  } catch {
    return false;
  }
  if (parsedSelectors.size >= MAX_REMEMBERED_SELECTORS) parsedSelectors.clear();
  parsedSelectors.add(value);
  return true;
}

function isPolicyType(value: unknown): boolean {
  return value === 'Ingress' || value === 'Egress';
}

function isLabels(value: unknown): boolean {
  if (!isRecord(value)) return false;
  for (const key of Object.keys(value)) {
    const text = value[key];
    if (key === '__proto__' || typeof text !== 'string') return false;
    if (labelKeyProblem(key) !== undefined || labelValueProblem(text) !== undefined) return false;
  }
  return true;
}

function isAnnotations(value: unknown): boolean {
  if (!isRecord(value)) return false;
  for (const key of Object.keys(value)) {
    if (key === '__proto__' || typeof value[key] !== 'string' || labelKeyProblem(key) !== undefined) {
      return false;
    }
  }
  return true;
}

/** No field outside `known` (the schema's objects are strict). */
function onlyKeys(value: Fields, known: ReadonlySet<string>): boolean {
  for (const key in value) if (!known.has(key)) return false;
  return true;
}

function isRecord(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
