// Parses iptables-save output (legacy and nft print the same format), of one table (`-t <table>`) or
// of all (the full save backend detection runs): the chains of the asked table, their policies and
// their rules with our hash comments recognised. Nothing else about a rule is parsed; the other
// tables' lines are skipped unread.

import { HASH_LENGTH, HASH_PREFIX } from './rules';

export interface SavedRule {
  /** The rule as saved, after `-A <chain> `. */
  readonly text: string;
  /** Our hash, if the rule carries our hash comment. */
  readonly hash?: string;
}

export interface SavedChain {
  readonly name: string;
  /** `ACCEPT`/`DROP` for built-in chains, `-` for user chains. */
  readonly policy: string;
  readonly rules: SavedRule[];
}

const HASH_RE = new RegExp(`--comment "?${HASH_PREFIX}([A-Za-z0-9_-]{${HASH_LENGTH}})"?(?:\\s|$)`);

/** The chains of `table` in save output, in the order saved; throws naming the line if malformed. */
export function parseSave(output: string, table: string): Map<string, SavedChain> {
  const chains = new Map<string, SavedChain>();
  let inTable = false;
  output.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.startsWith('*')) {
      inTable = line.slice(1) === table;
      return;
    }
    if (!inTable || line === 'COMMIT') return;
    const where = `iptables-save line ${index + 1}`;
    if (line.startsWith(':')) {
      const [name = '', policy = '-'] = line.slice(1).split(/\s+/);
      chains.set(name, { name, policy, rules: [] });
      return;
    }
    const append = /^-A\s+(\S+)\s*(.*)$/.exec(line);
    if (append === null) throw new Error(`${where}: cannot parse '${line}'`);
    const [, chainName = '', text = ''] = append;
    const chain = chains.get(chainName);
    if (chain === undefined) throw new Error(`${where}: rule for undeclared chain '${chainName}'`);
    const hash = HASH_RE.exec(text)?.[1];
    chain.rules.push(hash === undefined ? { text } : { text, hash });
  });
  return chains;
}
