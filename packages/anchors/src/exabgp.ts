import { writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Daemon, type LaunchOptions, type PeerStatus, type RouteEntry, type SessionState } from './daemon';
import { type DaemonSpec, familyOf, type OriginatedRoute, resolvePeers, SpecError } from './spec';

/** A path attribute sent byte for byte as given: how RFC 7606 cases are made. */
export interface RawAttribute {
  /** Attribute type code, e.g. 4 for MULTI_EXIT_DISC. */
  type: number;
  /** Attribute flags octet, e.g. 0x80 (optional, non-transitive). */
  flags: number;
  /** The value in hex, without 0x (may be empty). */
  value: string;
}

export interface ExabgpRoute extends OriginatedRoute {
  attributes?: RawAttribute[];
}

export interface ExabgpSpec extends DaemonSpec {
  originate?: (string | ExabgpRoute)[];
}

/**
 * ExaBGP's API talks over the stdin/stdout of a process it starts. This bridge is that process: it
 * serves a Unix socket, passes each connection's command line to ExaBGP and streams the answer back
 * up to ExaBGP's "done"/"error". It exits when ExaBGP closes its stdin.
 */
const API_BRIDGE = `import os, selectors, socket, sys

pending = b''

def read_line():
    global pending
    while b'\\n' not in pending:
        chunk = os.read(0, 65536)
        if not chunk:
            sys.exit(0)
        pending += chunk
    line, _, pending = pending.partition(b'\\n')
    return line

server = socket.socket(socket.AF_UNIX)
server.bind(sys.argv[1])
server.listen()
selector = selectors.DefaultSelector()
selector.register(server, selectors.EVENT_READ)
selector.register(0, selectors.EVENT_READ)
while True:
    for key, _ in selector.select():
        if key.fileobj == 0:
            read_line()
            continue
        connection, _ = server.accept()
        with connection:
            command = connection.makefile('rb').readline().strip()
            os.write(1, command + b'\\n')
            while True:
                line = read_line()
                connection.sendall(line + b'\\n')
                if line in (b'done', b'error'):
                    break
`;

function checkAttributes(field: string, attributes: RawAttribute[]): void {
  attributes.forEach((attribute, i) => {
    const where = `${field}.attributes[${i}]`;
    if (!Number.isInteger(attribute.type) || attribute.type < 0 || attribute.type > 255)
      throw new SpecError('exabgp', `${where}.type`, `${attribute.type} is not 0..255`);
    if (!Number.isInteger(attribute.flags) || attribute.flags < 0 || attribute.flags > 255)
      throw new SpecError('exabgp', `${where}.flags`, `${attribute.flags} is not 0..255`);
    if (!/^([0-9a-fA-F]{2})*$/.test(attribute.value))
      throw new SpecError('exabgp', `${where}.value`, `"${attribute.value}" is not hex bytes`);
  });
}

function hexByte(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}

/** One route in ExaBGP's syntax, shared by the config's static section and the API's announce. */
export function exabgpRoute(route: ExabgpRoute): string {
  const words = [`route ${route.prefix} next-hop ${route.nextHop ?? 'self'}`];
  for (const a of route.attributes ?? [])
    words.push(`attribute [ ${hexByte(a.type)} ${hexByte(a.flags)} 0x${a.value} ]`);
  return words.join(' ');
}

export function renderExabgpConfig(
  spec: DaemonSpec,
  routes: ExabgpRoute[],
  bridge: { script: string; socket: string },
): string {
  const family = familyOf(spec.listen.address) === 4 ? 'ipv4 unicast' : 'ipv6 unicast';
  const lines = [
    'process margay-api {',
    `  run /usr/bin/python3 ${bridge.script} ${bridge.socket};`,
    '  encoder text;',
    '}',
  ];
  for (const peer of resolvePeers(spec)) {
    lines.push(
      `neighbor ${peer.address} {`,
      `  router-id ${spec.routerId};`,
      `  local-address ${spec.listen.address};`,
      `  local-as ${spec.asNumber};`,
      `  peer-as ${peer.asNumber};`,
      `  connect ${peer.port};`,
      `  passive ${peer.passive};`,
      '  group-updates false;',
      '  adj-rib-in true;',
      `  family { ${family}; }`,
      '  api { processes [ margay-api ]; }',
    );
    if (peer.gracefulRestart)
      lines.push(`  capability { graceful-restart ${spec.gracefulRestart?.restartTime ?? 120}; }`);
    lines.push('  static {', ...routes.map((route) => `    ${exabgpRoute(route)};`), '  }', '}');
  }
  return `${lines.join('\n')}\n`;
}

const exabgpStates: Record<string, SessionState> = {
  idle: 'Idle',
  connect: 'Connect',
  active: 'Active',
  opensent: 'OpenSent',
  openconfirm: 'OpenConfirm',
  established: 'Established',
};

/** `show neighbor summary`: a header, then `address AS up/down state #sent #recvd` rows. */
export function parseExabgpSummary(text: string): PeerStatus[] {
  return text
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((columns) => columns.length >= 4)
    .map((columns) => ({ address: columns[0]!, state: exabgpStates[columns[3]!.toLowerCase()] ?? 'Idle' }));
}

/** Reads `key value` or `key [ v1 v2 ]` pairs. */
function readValues(words: string[], start: number): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (let i = start; i < words.length; ) {
    const key = words[i]!;
    if (words[i + 1] === '[') {
      const end = words.indexOf(']', i + 2);
      values.set(key, words.slice(i + 2, end));
      i = end + 1;
    } else {
      values.set(key, words[i + 1] === undefined ? [] : [words[i + 1]!]);
      i += 2;
    }
  }
  return values;
}

/** `show adj-rib in extensive`: one line per route, `... <afi> unicast <prefix> next-hop X as-path [ ... ] ...`. */
export function parseExabgpAdjRibIn(text: string): RouteEntry[] {
  const routes: RouteEntry[] = [];
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    const at = words.indexOf('unicast');
    const prefix = words[at + 1];
    if (at < 0 || prefix === undefined) continue;
    const values = readValues(words, at + 2);
    const route: RouteEntry = { prefix, asPath: (values.get('as-path') ?? []).map(Number) };
    const nextHop = values.get('next-hop')?.[0];
    if (nextHop) route.nextHop = nextHop;
    if (values.has('community')) route.communities = values.get('community');
    if (values.has('local-preference')) route.localPref = Number(values.get('local-preference')![0]);
    if (values.has('med')) route.med = Number(values.get('med')![0]);
    routes.push(route);
  }
  return routes;
}

class ExabgpDaemon extends Daemon<ExabgpRoute> {
  private readonly bridge: { script: string; socket: string };

  constructor(spec: ExabgpSpec, options: LaunchOptions) {
    super('exabgp', spec, options, 'exabgp.conf', 'Debian package exabgp');
    this.bridge = { script: join(this.dir, 'api-bridge.py'), socket: join(this.dir, 'api.sock') };
  }

  protected override async prepare(): Promise<void> {
    writeFileSync(this.bridge.script, API_BRIDGE);
  }

  protected command(): { file: string; args: string[]; env: NodeJS.ProcessEnv } {
    const env = {
      ...process.env,
      'exabgp.daemon.user': userInfo().username, // as root ExaBGP would otherwise drop to nobody
      'exabgp.daemon.daemonize': 'false',
      'exabgp.log.destination': 'stdout',
      'exabgp.api.cli': 'false',
      'exabgp.api.ack': 'true',
      'exabgp.tcp.bind': this.spec.listen.address,
      'exabgp.tcp.port': String(this.spec.listen.port),
    };
    return { file: 'exabgp', args: [this.configFile], env };
  }

  protected renderConfig(): string {
    return renderExabgpConfig(this.spec, [...this.originated.values()], this.bridge);
  }

  /** One ExaBGP API command, e.g. "show neighbor extensive"; resolves with the answer before "done". */
  apiCommand(line: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(this.bridge.socket);
      let answer = '';
      socket.setEncoding('utf8');
      socket.on('error', reject);
      socket.on('data', (data: string) => {
        answer += data;
      });
      socket.on('end', () => {
        if (answer.endsWith('done\n')) resolve(answer.slice(0, -'done\n'.length));
        else reject(new Error(`exabgp rejected "${line}": ${answer.trim()}`));
      });
      socket.end(`${line}\n`);
    });
  }

  protected async isReady(): Promise<boolean> {
    await this.apiCommand('version');
    return true;
  }

  override async announce(route: string | ExabgpRoute): Promise<void> {
    if (typeof route !== 'string') checkAttributes('announce', route.attributes ?? []);
    await super.announce(route);
  }

  protected async applyAnnounce(route: ExabgpRoute): Promise<void> {
    await this.apiCommand(`announce ${exabgpRoute(route)}`);
  }

  protected async applyWithdraw(prefix: string): Promise<void> {
    await this.apiCommand(`withdraw route ${prefix}`);
  }

  async peers(): Promise<PeerStatus[]> {
    return parseExabgpSummary(await this.apiCommand('show neighbor summary'));
  }

  async routes(): Promise<RouteEntry[]> {
    return parseExabgpAdjRibIn(await this.apiCommand('show adj-rib in extensive'));
  }
}

/**
 * ExaBGP (Debian exabgp), the RFC 7606 test sender: routes may carry raw path attributes, in the
 * spec's `originate` or at run time via announce().
 */
export async function startExabgp(spec: ExabgpSpec, options: LaunchOptions = {}): Promise<ExabgpDaemon> {
  spec.peers.forEach((peer, i) => {
    if (peer.routeReflectorClient)
      throw new SpecError(
        'exabgp',
        `peers[${i}].routeReflectorClient`,
        'is not possible: ExaBGP reflects nothing',
      );
  });
  (spec.originate ?? []).forEach((route, i) => {
    if (typeof route !== 'string') checkAttributes(`originate[${i}]`, route.attributes ?? []);
  });
  return new ExabgpDaemon(spec, options).start();
}

export type { ExabgpDaemon };
