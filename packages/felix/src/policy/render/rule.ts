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

import type { EntityRule, Rule as PolicyRule, Port, Protocol } from '@margay/api';
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
  policyRules.forEach((policyRule, index) => {
    const renderer = new OneRule(owner, direction, index, policyRule, ipSets);
    rules.push(...renderer.render());
  });
  return { rules, ipSets: [...ipSets.values()] };
}

type Side = 'source' | 'destination';

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

    const parts: string[] = [];
    if (protocol !== undefined) parts.push(`-p ${protocol}`);
    else if (notProtocol !== undefined && notProtocol !== null) parts.push(`! -p ${notProtocol}`);
    // (protocol and a different notProtocol: the protocol already excludes it)

    for (const side of ['source', 'destination'] as const) {
      const nets = this.netsMatch(side);
      if (nets === null) return []; // only IPv6 nets: cannot match an IPv4 packet
      parts.push(...nets);
    }
    for (const side of ['source', 'destination'] as const) parts.push(...this.selectorMatch(side));
    parts.push(...this.icmpMatch(protocol));
    for (const side of ['source', 'destination'] as const) parts.push(...this.notPortsMatch(side, protocol));

    const alternatives: string[] = [];
    for (const sourcePorts of this.portAlternatives('source', protocol)) {
      for (const destinationPorts of this.portAlternatives('destination', protocol)) {
        alternatives.push(join([...parts, sourcePorts, destinationPorts]));
      }
    }
    return this.withAction(alternatives);
  }

  private checkFields(): void {
    for (const field of Object.keys(this.rule)) {
      if (!SUPPORTED_RULE_FIELDS.has(field)) this.fail(field, 'is not supported by margay');
    }
    for (const side of ['source', 'destination'] as const) {
      const entity = this.rule[side];
      if (entity === undefined) continue;
      for (const field of Object.keys(entity)) {
        if (!SUPPORTED_ENTITY_FIELDS.has(field)) this.fail(`${side}.${field}`, 'is not supported by margay');
      }
    }
    const action = this.rule.action as string;
    if (!['Allow', 'Deny', 'Pass', 'Log'].includes(action)) {
      this.fail('action', `must be Allow, Deny, Pass or Log (got ${JSON.stringify(action)})`);
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
    return this.rule[side] ?? {};
  }

  private addSet(ref: IpSetRef): string {
    const spec = ipSetSpecFor(ref);
    this.ipSets.set(spec.name, ref);
    return spec.name;
  }

  /** Set matches for nets and notNets; `null` if the rule lists nets but none is IPv4. */
  private netsMatch(side: Side): string[] | null {
    const { nets, notNets } = this.entity(side);
    const direction = side === 'source' ? 'src' : 'dst';
    const parts: string[] = [];
    if (nets !== undefined && nets.length > 0) {
      const v4 = nets.filter(isIpv4Net);
      if (v4.length === 0) return null;
      parts.push(`-m set --match-set ${this.addSet({ kind: 'nets', nets: v4 })} ${direction}`);
    }
    const notV4 = (notNets ?? []).filter(isIpv4Net);
    if (notV4.length > 0) {
      parts.push(`-m set ! --match-set ${this.addSet({ kind: 'nets', nets: notV4 })} ${direction}`);
    }
    return parts;
  }

  private folded(side: Side) {
    const { selector, notSelector, namespaceSelector } = this.entity(side);
    try {
      return foldSelectors({ selector, notSelector, namespaceSelector }, this.owner.namespace);
    } catch (error) {
      return this.fail(`${side}.selector`, (error as Error).message);
    }
  }

  private selectorMatch(side: Side): string[] {
    const folded = this.folded(side);
    const direction = side === 'source' ? 'src' : 'dst';
    const parts: string[] = [];
    if (folded.selector !== undefined) {
      const name = this.addSet({ kind: 'selector', selector: folded.selector });
      parts.push(`-m set --match-set ${name} ${direction}`);
    }
    if (folded.notSelector !== undefined) {
      const name = this.addSet({ kind: 'selector', selector: folded.notSelector });
      parts.push(`-m set ! --match-set ${name} ${direction}`);
    }
    return parts;
  }

  private icmpMatch(protocol: string | undefined): string[] {
    const parts: string[] = [];
    for (const field of ['icmp', 'notICMP'] as const) {
      const icmp = this.rule[field];
      if (icmp === undefined) continue;
      if (protocol !== 'icmp') this.fail(field, 'needs protocol ICMP');
      if (icmp.type === undefined) {
        if (icmp.code !== undefined) this.fail(`${field}.code`, 'a code needs a type');
        continue; // {}: any ICMP (or, negated, nothing to exclude beyond the protocol)
      }
      const value = icmp.code === undefined ? `${icmp.type}` : `${icmp.type}/${icmp.code}`;
      parts.push(`-m icmp ${field === 'notICMP' ? '! ' : ''}--icmp-type ${value}`);
    }
    return parts;
  }

  private checkPorts(side: Side, field: 'ports' | 'notPorts', protocol: string | undefined): Port[] {
    const ports = this.entity(side)[field] ?? [];
    if (ports.length === 0) return [];
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
    if (ports.length === 0 || protocol === undefined) return [''];
    const flag = side === 'source' ? '--sports' : '--dports';
    const direction = side === 'source' ? 'src,src' : 'dst,dst';
    return [
      ...multiportChunks(ports.filter(isNumericPort)).map((chunk) => `-m multiport ${flag} ${chunk}`),
      ...ports
        .filter(isNamedPort)
        .map((name) => `-m set --match-set ${this.namedPortSet(side, protocol, name)} ${direction}`),
    ];
  }

  /** notPorts: every listed port is excluded, so the negated matches are ANDed in one rule. */
  private notPortsMatch(side: Side, protocol: string | undefined): string[] {
    const ports = this.checkPorts(side, 'notPorts', protocol);
    if (ports.length === 0 || protocol === undefined) return [];
    const flag = side === 'source' ? '--sports' : '--dports';
    const direction = side === 'source' ? 'src,src' : 'dst,dst';
    return [
      ...multiportChunks(ports.filter(isNumericPort)).map((chunk) => `-m multiport ! ${flag} ${chunk}`),
      ...ports
        .filter(isNamedPort)
        .map((name) => `-m set ! --match-set ${this.namedPortSet(side, protocol, name)} ${direction}`),
    ];
  }

  private withAction(alternatives: readonly string[]): Rule[] {
    const comment = `${this.owner.id.slice(0, 80)} ${this.direction} rule ${this.index} ${this.rule.action}`;
    const [only] = alternatives;
    const single = alternatives.length === 1 && only !== undefined;
    const each = (action: string): Rule[] =>
      alternatives.map((match, i) => (i === 0 ? { match, action, comment } : { match, action }));
    switch (this.rule.action) {
      case 'Deny':
        return each('-j DROP');
      case 'Allow':
      case 'Pass': {
        const bit = this.rule.action === 'Allow' ? MARK_ACCEPT : MARK_PASS;
        return [...each(setMark(bit)), { match: markIsSet(bit), action: '-j RETURN' }];
      }
      case 'Log':
        if (single) return [{ match: only, action: LOG_ACTION, comment }];
        return [
          { match: '', action: clearMarks(MARK_SCRATCH), comment },
          ...alternatives.map((match) => ({ match, action: setMark(MARK_SCRATCH) })),
          { match: markIsSet(MARK_SCRATCH), action: LOG_ACTION },
          { match: '', action: clearMarks(MARK_SCRATCH) },
        ];
    }
  }
}

function join(parts: readonly string[]): string {
  return parts.filter((part) => part !== '').join(' ');
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

/** Comma lists of at most 15 multiport slots (a range `a:b` takes two). */
function multiportChunks(ports: readonly Port[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let slots = 0;
  for (const port of ports) {
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
