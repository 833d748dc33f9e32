import { createConnection } from 'node:net';
import type { RouteEntry, SessionState } from './daemon';

/**
 * One command on a BIRD control socket (BIRD 1.6 and 2 speak the same protocol): every reply line
 * starts with a 4-digit code and '-' (more follows) or ' ' (last line); continuation lines start with
 * a space. Returns the text the way birdc prints it; 8xxx/9xxx replies become errors.
 */
export function birdCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let buffer = '';
    let welcomed = false;
    const lines: string[] = [];
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (data: string) => {
      buffer += data;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf('\n');
        const coded = /^(\d{4})([ -])(.*)$/.exec(line);
        if (!welcomed) {
          // The greeting ("0001 BIRD x ready.") precedes the command's reply.
          welcomed = true;
          socket.write(`${command}\n`);
          continue;
        }
        lines.push(coded ? coded[3]! : line.slice(1));
        if (coded && coded[2] === ' ') {
          socket.end();
          if (/^[89]/.test(coded[1]!)) reject(new Error(`BIRD rejected "${command}": ${coded[3]}`));
          else resolve(lines.join('\n'));
          return;
        }
      }
    });
    socket.on('close', () => reject(new Error(`BIRD closed the control socket during "${command}"`)));
  });
}

const birdStates: Record<string, SessionState> = {
  Idle: 'Idle',
  Connect: 'Connect',
  Active: 'Active',
  Passive: 'Active', // waiting for the neighbour to connect: RFC 4271's Active
  OpenSent: 'OpenSent',
  OpenConfirm: 'OpenConfirm',
  Established: 'Established',
  Close: 'Idle',
};

/** `show protocols` → the BGP session state of each protocol (by name); a protocol that is down is Idle. */
export function parseBirdProtocols(text: string): Map<string, SessionState> {
  const states = new Map<string, SessionState>();
  for (const line of text.split('\n')) {
    const columns = line.trim().split(/\s+/);
    if (columns[1] !== 'BGP') continue;
    const info = columns.slice(4).find((word) => word in birdStates);
    states.set(columns[0]!, info ? birdStates[info]! : 'Idle');
  }
  return states;
}

function communities(value: string): string[] {
  return [...value.matchAll(/\((\d+),(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
}

/** `show route all` (BIRD 1.6 or 2) → one entry per path. */
export function parseBirdRoutes(text: string): RouteEntry[] {
  const routes: RouteEntry[] = [];
  let prefix: string | undefined;
  let current: RouteEntry | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('\t')) {
      const attribute = /^\t(BGP\.\w+): (.*)$/.exec(line);
      if (!current || !attribute) continue;
      const [, key, value] = attribute as unknown as [string, string, string];
      if (key === 'BGP.as_path') current.asPath = value.match(/\d+/g)?.map(Number) ?? [];
      else if (key === 'BGP.next_hop') current.nextHop = value.split(' ')[0];
      else if (key === 'BGP.local_pref') current.localPref = Number(value);
      else if (key === 'BGP.med') current.med = Number(value);
      else if (key === 'BGP.community') current.communities = communities(value);
      else if (key === 'BGP.originator_id') current.originatorId = value.trim();
      else if (key === 'BGP.cluster_list') current.clusterList = value.trim().split(/\s+/);
      continue;
    }
    if (line.trim() === '' || line.startsWith('Table ')) continue;
    // A route line starts with its prefix; further paths of the same prefix start with blanks.
    if (!/^\s/.test(line)) prefix = line.split(/\s+/)[0];
    if (prefix === undefined) continue;
    current = { prefix, asPath: [] };
    routes.push(current);
  }
  return routes;
}
