// One Calico rule → iptables rules in a policy or profile chain (IPv4).
//
// The match parts of a rule are ANDed, which one iptables rule expresses directly, except where a
// field is an OR: ports that mix numbers with names, several named ports, or more than 15 port
// slots (multiport's limit). Those become several "alternatives" (the cross product of the source
// and destination port alternatives); each alternative sets a mark and one rule then acts on the
// mark, so a packet matching two alternatives is still acted on (or logged) once.
//
// Actions, as in felix: Allow sets the accept mark and RETURNs (the endpoint chain sees the mark
// and returns; the static chains ACCEPT), Pass sets the pass mark and RETURNs (the endpoint chain
// skips the rest of the tier), Deny DROPs, Log LOGs and goes on to the next rule. Replies are not
// handled here: conntrack ESTABLISHED,RELATED is accepted in the static chains.

import {
  type EntityRule,
  type Rule as PolicyRule,
  type Port,
  type Protocol,
  RULE_ACTIONS,
} from '@margay/api';
import type { Rule } from '@margay/dataplane';
import type { IpSetRef } from '../model';
import { type Direction, PolicyRenderError } from './errors';
import { ipSetSpecFor } from './ipset-names';
import { clearMarks, MARK_ACCEPT, MARK_PASS, MARK_SCRATCH, markIsSet, setMark } from './marks';
import { foldSelectors } from './selectors';

export interface RuleOwner {
  readonly owner: 'policy' | 'profile';
  readonly id: string;
  /** Namespaced policies scope their selectors to this namespace. */
  readonly namespace?: string | undefined;
}

export interface RenderedRules {
  readonly rules: Rule[];
  readonly ipSets: IpSetRef[];
}

const SUPPORTED_RULE_FIELDS = new Set([
  'action',
  'ipVersion',
  'protocol',
  'notProtocol',
  'icmp',
  'notICMP',
  'source',
  'destination',
  'metadata', // annotations only: nothing to match
]);
const SUPPORTED_ENTITY_FIELDS = new Set([
  'nets',
  'notNets',
  'selector',
  'notSelector',
  'namespaceSelector',
  'ports',
  'notPorts',
]);

/** multiport takes at most 15 ports, a range counting as two. */
const MULTIPORT_SLOTS = 15;
const PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'udplite']);
const NAMED_PORT_PROTOCOLS = new Set(['tcp', 'udp', 'sctp']);
const LOG_ACTION = '-j LOG --log-prefix margay-policy: --log-level 5';

/** iptables' name for a protocol, or `undefined` for one that exists only in IPv6. */
function iptablesProtocol(protocol: Protocol): string | undefined {
  switch (protocol) {
    case 'TCP':
    case 6:
      return 'tcp';
    case 'UDP':
    case 17:
      return 'udp';
    case 'SCTP':
    case 132:
      return 'sctp';
    case 'UDPLite':
    case 136:
      return 'udplite';
    case 'ICMP':
    case 1:
      return 'icmp';
    case 'ICMPv6':
    case 58:
      return undefined;
    default:
      if (typeof protocol === 'number' && Number.isInteger(protocol) && protocol >= 1 && protocol <= 255) {
        return String(protocol);
      }
      throw new Error(`unknown protocol ${JSON.stringify(protocol)}`);
  }
}

/** Renders the rules of one direction of a policy or profile, in order. */
export function renderRules(
  owner: RuleOwner,
  direction: Direction,
  policyRules: readonly PolicyRule[],
): RenderedRules {
  const rules: Rule[] = [];
  const ipSets = new Map<string, IpSetRef>();
  for (let index = 0; index < policyRules.length; index++) {
    const renderer = new OneRule(owner, direction, index, policyRules[index]!, ipSets);
    for (const rule of renderer.render()) rules.push(rule);
  }
  return { rules, ipSets: Array.from(ipSets.values()) };
}

type Side = 'source' | 'destination';

/** What a rule without source or destination matches on that side: anything. */
const ANY_ENTITY: EntityRule = Object.freeze({});
const ACTIONS: ReadonlySet<string> = new Set(RULE_ACTIONS);

// A start renders a rule or two for each of 1,000 policies: enough for V8 to optimize these
// methods, so they are kept to plain loops and string appends (no spreads, array literals or
// closures per call), which are cheap to compile as well as to run.
class OneRule {
  constructor(
    private readonly owner: RuleOwner,
    private readonly direction: Direction,
    private readonly index: number,
    private readonly rule: PolicyRule,
    private readonly ipSets: Map<string, IpSetRef>,
  ) {}

  private fail(field: string, problem: string): never {
    throw new PolicyRenderError(
      {
        owner: this.owner.owner,
        id: this.owner.id,
        direction: this.direction,
        ruleIndex: this.index,
        field,
      },
      problem,
    );
  }

  render(): Rule[] {
    const rule = this.rule;
    this.checkFields();
    // This renderer writes the IPv4 table: rules only for IPv6 do not apply here.
    if (rule.ipVersion === 6) return [];

    const protocol = rule.protocol === undefined ? undefined : this.protocol('protocol', rule.protocol);
    const notProtocol =
      rule.notProtocol === undefined ? undefined : this.protocol('notProtocol', rule.notProtocol);
    if (protocol === null) return []; // an IPv6-only protocol (ICMPv6)
    if (protocol !== undefined && notProtocol !== undefined && protocol === notProtocol) return []; // never matches

    // The matches every alternative shares, space-separated.
    let common = '';
    if (protocol !== undefined) common = `-p ${protocol}`;
    else if (notProtocol !== undefined && notProtocol !== null) common = `! -p ${notProtocol}`;
    // (protocol and a different notProtocol: the protocol already excludes it)

    const sourceNets = this.netsMatch('source');
    if (sourceNets === null) return []; // only IPv6 nets: cannot match an IPv4 packet
    const destinationNets = this.netsMatch('destination');
    if (destinationNets === null) return [];
    common = append(append(common, sourceNets), destinationNets);
    common = append(common, this.selectorMatch('source'));
    common = append(common, this.selectorMatch('destination'));
    common = append(common, this.icmpMatch(protocol));
    common = append(common, this.notPortsMatch('source', protocol));
    common = append(common, this.notPortsMatch('destination', protocol));

    const sourcePorts = this.portAlternatives('source', protocol);
    const destinationPorts = this.portAlternatives('destination', protocol);
    const alternatives: string[] = [];
    for (const sourcePort of sourcePorts) {
      const withSource = append(common, sourcePort);
      for (const destinationPort of destinationPorts) alternatives.push(append(withSource, destinationPort));
    }
    return this.withAction(alternatives);
  }

  private checkFields(): void {
    const rule = this.rule;
    for (const field in rule) {
      if (!SUPPORTED_RULE_FIELDS.has(field)) this.fail(field, 'is not supported by margay');
    }
    this.checkEntityFields('source', rule.source);
    this.checkEntityFields('destination', rule.destination);
    const action = rule.action as string;
    if (!ACTIONS.has(action)) {
      this.fail('action', `must be Allow, Deny, Pass or Log (got ${JSON.stringify(action)})`);
    }
  }

  private checkEntityFields(side: Side, entity: EntityRule | undefined): void {
    if (entity === undefined) return;
    for (const field in entity) {
      if (!SUPPORTED_ENTITY_FIELDS.has(field)) this.fail(`${side}.${field}`, 'is not supported by margay');
    }
  }

  /** iptables protocol name; `null` when it exists only in IPv6. */
  private protocol(field: string, protocol: Protocol): string | null {
    try {
      return iptablesProtocol(protocol) ?? null;
    } catch (error) {
      return this.fail(field, (error as Error).message);
    }
  }

  private entity(side: Side): EntityRule {
    return (side === 'source' ? this.rule.source : this.rule.destination) ?? ANY_ENTITY;
  }

  private addSet(ref: IpSetRef): string {
    const spec = ipSetSpecFor(ref);
    this.ipSets.set(spec.name, ref);
    return spec.name;
  }

  /** Set matches for nets and notNets ('' for none); `null` if the rule lists nets but none is IPv4. */
  private netsMatch(side: Side): string | null {
    const { nets, notNets } = this.entity(side);
    const direction = side === 'source' ? 'src' : 'dst';
    let match = '';
    if (nets !== undefined && nets.length > 0) {
      const v4 = ipv4Nets(nets);
      if (v4.length === 0) return null;
      match = `-m set --match-set ${this.addSet({ kind: 'nets', nets: v4 })} ${direction}`;
    }
    const notV4 = notNets === undefined ? [] : ipv4Nets(notNets);
    if (notV4.length > 0) {
      match = append(
        match,
        `-m set ! --match-set ${this.addSet({ kind: 'nets', nets: notV4 })} ${direction}`,
      );
    }
    return match;
  }

  private folded(side: Side) {
    const { selector, notSelector, namespaceSelector } = this.entity(side);
    try {
      return foldSelectors({ selector, notSelector, namespaceSelector }, this.owner.namespace);
    } catch (error) {
      return this.fail(`${side}.selector`, (error as Error).message);
    }
  }

  private selectorMatch(side: Side): string {
    const folded = this.folded(side);
    const direction = side === 'source' ? 'src' : 'dst';
    let match = '';
    if (folded.selector !== undefined) {
      const name = this.addSet({ kind: 'selector', selector: folded.selector });
      match = `-m set --match-set ${name} ${direction}`;
    }
    if (folded.notSelector !== undefined) {
      const name = this.addSet({ kind: 'selector', selector: folded.notSelector });
      match = append(match, `-m set ! --match-set ${name} ${direction}`);
    }
    return match;
  }

  private icmpMatch(protocol: string | undefined): string {
    const icmp = this.icmpPart('icmp', protocol);
    return append(icmp, this.icmpPart('notICMP', protocol));
  }

  private icmpPart(field: 'icmp' | 'notICMP', protocol: string | undefined): string {
    const icmp = field === 'icmp' ? this.rule.icmp : this.rule.notICMP;
    if (icmp === undefined) return '';
    if (protocol !== 'icmp') this.fail(field, 'needs protocol ICMP');
    if (icmp.type === undefined) {
      if (icmp.code !== undefined) this.fail(`${field}.code`, 'a code needs a type');
      return ''; // {}: any ICMP (or, negated, nothing to exclude beyond the protocol)
    }
    const value = icmp.code === undefined ? `${icmp.type}` : `${icmp.type}/${icmp.code}`;
    return `-m icmp ${field === 'notICMP' ? '! ' : ''}--icmp-type ${value}`;
  }

  private checkPorts(side: Side, field: 'ports' | 'notPorts', protocol: string | undefined): readonly Port[] {
    const entity = this.entity(side);
    const ports = (field === 'ports' ? entity.ports : entity.notPorts) ?? NO_PORTS;
    if (ports.length === 0) return NO_PORTS;
    if (protocol === undefined || !PORT_PROTOCOLS.has(protocol)) {
      this.fail(`${side}.${field}`, 'ports need protocol TCP, UDP, SCTP or UDPLite');
    }
    for (const port of ports) {
      if (isNamedPort(port) && !NAMED_PORT_PROTOCOLS.has(protocol)) {
        this.fail(`${side}.${field}`, `named port ${JSON.stringify(port)} needs protocol TCP, UDP or SCTP`);
      }
    }
    return ports;
  }

  private namedPortSet(side: Side, protocol: string, port: string): string {
    // Calico: the endpoints matching the same side's (scoped) selector that expose the port.
    const selector = this.folded(side).selector ?? 'all()';
    return this.addSet({
      kind: 'named-port',
      selector,
      protocol: protocol as 'tcp' | 'udp' | 'sctp',
      port,
    });
  }

  /** One iptables match per alternative; [''] when the side has no ports (any port). */
  private portAlternatives(side: Side, protocol: string | undefined): string[] {
    const ports = this.checkPorts(side, 'ports', protocol);
    if (ports.length === 0 || protocol === undefined) return ANY_PORT;
    const flag = side === 'source' ? '--sports' : '--dports';
    const direction = side === 'source' ? 'src,src' : 'dst,dst';
    const alternatives: string[] = [];
    for (const chunk of multiportChunks(ports)) alternatives.push(`-m multiport ${flag} ${chunk}`);
    for (const port of ports) {
      if (isNamedPort(port)) {
        alternatives.push(`-m set --match-set ${this.namedPortSet(side, protocol, port)} ${direction}`);
      }
    }
    return alternatives;
  }

  /** notPorts: every listed port is excluded, so the negated matches are ANDed in one rule. */
  private notPortsMatch(side: Side, protocol: string | undefined): string {
    const ports = this.checkPorts(side, 'notPorts', protocol);
    if (ports.length === 0 || protocol === undefined) return '';
    const flag = side === 'source' ? '--sports' : '--dports';
    const direction = side === 'source' ? 'src,src' : 'dst,dst';
    let match = '';
    for (const chunk of multiportChunks(ports)) match = append(match, `-m multiport ! ${flag} ${chunk}`);
    for (const port of ports) {
      if (isNamedPort(port)) {
        match = append(match, `-m set ! --match-set ${this.namedPortSet(side, protocol, port)} ${direction}`);
      }
    }
    return match;
  }

  private withAction(alternatives: readonly string[]): Rule[] {
    const action = this.rule.action;
    const comment = `${this.owner.id.slice(0, 80)} ${this.direction} rule ${this.index} ${action}`;
    switch (action) {
      case 'Deny':
        return withComment(alternatives, DROP, comment, []);
      case 'Allow':
        return withComment(alternatives, SET_ACCEPT, comment, [RETURN_IF_ACCEPTED()]);
      case 'Pass':
        return withComment(alternatives, SET_PASS, comment, [RETURN_IF_PASSED()]);
      case 'Log':
        return logRules(alternatives, comment);
    }
  }
}

const NO_PORTS: readonly Port[] = Object.freeze([]);
/** A side without ports: one alternative that adds no match. */
const ANY_PORT: string[] = [''];
const DROP = '-j DROP';
const SET_ACCEPT = setMark(MARK_ACCEPT);
const SET_PASS = setMark(MARK_PASS);
const SET_SCRATCH = setMark(MARK_SCRATCH);
const CLEAR_SCRATCH = clearMarks(MARK_SCRATCH);
// Fresh objects each time: the rules handed out are the caller's.
const RETURN_IF_ACCEPTED = (): Rule => ({ match: markIsSet(MARK_ACCEPT), action: '-j RETURN' });
const RETURN_IF_PASSED = (): Rule => ({ match: markIsSet(MARK_PASS), action: '-j RETURN' });

/** One rule per alternative with `action` (the first carries the comment), then `after`. */
function withComment(
  alternatives: readonly string[],
  action: string,
  comment: string,
  after: Rule[],
): Rule[] {
  const rules: Rule[] = [];
  for (let i = 0; i < alternatives.length; i++) {
    const match = alternatives[i]!;
    rules.push(i === 0 ? { match, action, comment } : { match, action });
  }
  for (const rule of after) rules.push(rule);
  return rules;
}

/** Log once per packet: one LOG rule, or for an OR of matches, the scratch mark set by any of them. */
function logRules(alternatives: readonly string[], comment: string): Rule[] {
  const [only] = alternatives;
  if (alternatives.length === 1 && only !== undefined) return [{ match: only, action: LOG_ACTION, comment }];
  const rules: Rule[] = [{ match: '', action: CLEAR_SCRATCH, comment }];
  for (const match of alternatives) rules.push({ match, action: SET_SCRATCH });
  rules.push({ match: markIsSet(MARK_SCRATCH), action: LOG_ACTION }, { match: '', action: CLEAR_SCRATCH });
  return rules;
}

/** `text` and `part` joined by a space; an empty one adds nothing. */
function append(text: string, part: string): string {
  if (part === '') return text;
  return text === '' ? part : `${text} ${part}`;
}

function ipv4Nets(nets: readonly string[]): string[] {
  const v4: string[] = [];
  for (const net of nets) if (isIpv4Net(net)) v4.push(net);
  return v4;
}

function isIpv4Net(net: string): boolean {
  return !net.includes(':');
}

function isNamedPort(port: Port): port is string {
  return typeof port === 'string' && !/^\d+(:\d+)?$/.test(port);
}

function isNumericPort(port: Port): boolean {
  return !isNamedPort(port);
}

/** Comma lists of at most 15 multiport slots (a range `a:b` takes two), of the numeric ports. */
function multiportChunks(ports: readonly Port[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let slots = 0;
  for (const port of ports) {
    if (!isNumericPort(port)) continue;
    const text = String(port);
    const size = text.includes(':') ? 2 : 1;
    if (slots + size > MULTIPORT_SLOTS) {
      chunks.push(current.join(','));
      current = [];
      slots = 0;
    }
    current.push(text);
    slots += size;
  }
  if (current.length > 0) chunks.push(current.join(','));
  return chunks;
}
