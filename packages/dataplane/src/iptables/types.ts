// The contract between felix's policy renderer (which computes desired chains and IP sets) and the
// writers here (which own the kernel's iptables tables and ipsets). Rules are iptables-restore text,
// as in Calico felix: the renderer decides what a rule says, the Table decides how it reaches the
// kernel (hash comments, one restore per table, readback, refresh).

export type TableName = 'filter' | 'nat' | 'mangle' | 'raw';

/** One rule: its match criteria and its action, as iptables-restore argument text. */
export interface Rule {
  /** e.g. `-p tcp -m set --match-set mg4-s-abc src -m multiport --dports 80,443`; '' matches all. */
  readonly match: string;
  /** e.g. `-j ACCEPT`, `-j DROP`, `-j mg-pi-default.allow`, `-g mg-tw-abc`, `-j MARK --set-xmark 0x10000/0x10000`, `-j RETURN`. */
  readonly action: string;
  /** A human note written beside the rule's hash comment (what produced it); optional. */
  readonly comment?: string;
}

/** A chain we own (name starts with `mg-`) and its full desired content, in order. */
export interface Chain {
  readonly name: string;
  readonly rules: readonly Rule[];
}

/** Desired state of one iptables table; nothing reaches the kernel until apply(). */
export interface IptablesTable {
  readonly name: TableName;
  /** Sets the full desired content of these chains (creating them if absent). */
  updateChains(chains: readonly Chain[]): void;
  /** Our chains to flush and delete at the next apply (after no rule of ours jumps to them). */
  removeChains(names: readonly string[]): void;
  /** The rules we insert at the top of a kernel chain (e.g. FORWARD → `-j mg-FORWARD`); [] removes ours. */
  setHooks(kernelChain: string, rules: readonly Rule[]): void;
  /** Makes the kernel match the desired state: one iptables-restore --noflush for the whole table. */
  apply(options?: TableApplyOptions): Promise<TableApplyResult>;
  /** Reads the kernel ahead of the first apply (optional: otherwise that apply reads it). */
  prime?(): Promise<PrimeResult>;
}

export interface TableApplyOptions {
  /**
   * Only create or rewrite our chains that are missing or differ: no hook rule is inserted or
   * removed and no chain deleted. For state nothing references yet (felix's early programming).
   */
  readonly additive?: boolean;
}

/** What a prime found of ours in the kernel. */
export interface PrimeResult {
  /** Our chains and our hook rules (a table), or our sets (IP sets): 0 on a fresh kernel. */
  readonly ours: number;
}

export interface TableApplyResult {
  /** Chains created, rewritten or deleted by this apply. */
  readonly chainsWritten: number;
  /** Bytes of iptables-restore input written (0 when nothing differed). */
  readonly bytesWritten: number;
}

/** hash:ip and hash:net for selectors and nets; hash:ip,port for named ports (`10.0.0.1,tcp:80`). */
export type IpSetType = 'hash:ip' | 'hash:net' | 'hash:ip,port';

export interface IpSetSpec {
  /** The kernel name, at most 31 characters, e.g. `mg4-s-<hash>`. */
  readonly name: string;
  readonly type: IpSetType;
}

/** Desired ipsets; sets are created/filled before rules are applied, and deleted after. */
export interface IpSets {
  /** Replaces the whole membership of a set (creating it if new). */
  replaceMembers(set: IpSetSpec, members: Iterable<string>): void;
  /** Incremental updates of an existing desired set. */
  addMembers(name: string, members: Iterable<string>): void;
  removeMembers(name: string, members: Iterable<string>): void;
  /** The set is no longer wanted; it is destroyed by applyDeletions(). */
  removeSet(name: string): void;
  /** Creates sets and writes member changes (one `ipset restore`); call before the tables apply. */
  applyUpdates(): Promise<IpSetApplyResult>;
  /** Destroys unwanted sets; call after the tables apply (so no rule still references them). */
  applyDeletions(): Promise<IpSetApplyResult>;
  /** Reads the kernel's sets ahead of the first apply (optional: otherwise that apply reads them). */
  prime?(): Promise<PrimeResult>;
}

export interface IpSetApplyResult {
  readonly bytesWritten: number;
}
