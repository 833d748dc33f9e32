// Which chains of one table each producer (a policy, an endpoint, the dispatch, the static rules)
// owns, and what was last handed to the table, so only chains whose rules changed are passed to
// updateChains and only chains nobody produces any more are removed.

import type { Chain, IptablesTable, Rule } from '@margay/dataplane';

export class ChainLedger {
  /** Chain name → its rules as last handed to the table. */
  private readonly written = new Map<string, readonly Rule[]>();
  private readonly chainsByOwner = new Map<string, Set<string>>();
  private readonly ownerByChain = new Map<string, string>();
  private readonly updates = new Map<string, Chain>();
  private readonly removals = new Set<string>();

  /** Sets everything `owner` produces now ([] = nothing). */
  set(owner: string, chains: readonly Chain[]): void {
    const before = this.chainsByOwner.get(owner);
    const now = new Set<string>();
    for (const chain of chains) {
      now.add(chain.name);
      this.ownerByChain.set(chain.name, owner);
      const written = this.written.get(chain.name);
      if (written !== undefined && sameRules(written, chain.rules)) continue;
      this.written.set(chain.name, chain.rules);
      this.updates.set(chain.name, chain);
      this.removals.delete(chain.name);
    }
    for (const name of before ?? []) {
      // Another producer may have taken the name over in the meantime.
      if (now.has(name) || this.ownerByChain.get(name) !== owner) continue;
      this.ownerByChain.delete(name);
      this.written.delete(name);
      this.updates.delete(name);
      this.removals.add(name);
    }
    if (now.size > 0) this.chainsByOwner.set(owner, now);
    else this.chainsByOwner.delete(owner);
  }

  /** Hands what changed since the last call to the table (applying is the caller's job). */
  flushInto(table: IptablesTable): { updated: number; removed: number } {
    const updated = this.updates.size;
    const removed = this.removals.size;
    if (updated > 0) table.updateChains([...this.updates.values()]);
    if (removed > 0) table.removeChains([...this.removals]);
    this.updates.clear();
    this.removals.clear();
    return { updated, removed };
  }

  /** Every chain currently produced, by name. */
  chainNames(): string[] {
    return [...this.ownerByChain.keys()];
  }
}

/**
 * Rule by rule, field by field: what decides the text the table writes. (A start compares ~2,500
 * chains; serializing each to JSON to compare cost more than the comparison.)
 */
function sameRules(a: readonly Rule[], b: readonly Rule[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.match !== y.match || x.action !== y.action || x.comment !== y.comment) return false;
  }
  return true;
}
