// The API's messages as TypeScript sees them (proto-loader's camelCase field names, 64-bit
// counters as numbers).

export interface ApiPeer {
  address: string;
  asNumber: number;
  type: string;
  /** The configured description; empty when none. */
  description: string;
  state: string;
  sinceUnixMs: number;
  uptimeSeconds: number;
  routerId: string;
  messagesIn: number;
  messagesOut: number;
  updatesIn: number;
  updatesOut: number;
  prefixesReceived: number;
  prefixesAccepted: number;
  prefixesAdvertised: number;
  lastError: string;
}

export interface ApiRibEntry {
  prefix: string;
  best: boolean;
  nextHop: string;
  asPath: string;
  origin: string;
  /** Absent when the path carries none. */
  localPref?: number;
  med?: number;
  communities: string[];
  fromPeer: string;
}

export interface ApiRibFilter {
  family?: '' | 'ipv4' | 'ipv6';
  prefix?: string;
}

export interface ApiRefreshRequest {
  address: string;
  family?: '' | 'ipv4' | 'ipv6';
}

export type ApiEvent =
  | { event: 'peer'; peer: { address: string; from: string; to: string } }
  | { event: 'route'; route: { kind: string; prefix: string; best: ApiRibEntry | null } };
