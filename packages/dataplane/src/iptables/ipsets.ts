// The ipset writer, like felix's IP set manager: desired members per set, written as deltas in ONE
// `ipset restore` per apply. The deltas are computed against what we last wrote, or against
// `ipset save` read back at the first apply and on resync(), so a restart rewrites nothing that is
// already right. Only sets named like ours (`mg4-`, `mg6-`, temporaries `mgt-`) are ever touched.

import type { CommandRunner } from '../command';
import { canonicalAddress, parsePrefix } from '../prefix';
import type { IpSetApplyResult, IpSetSpec, IpSets, IpSetType, PrimeResult } from './types';

const SET_TYPES: readonly IpSetType[] = ['hash:ip', 'hash:net', 'hash:ip,port'];
const MAX_SET_NAME_LENGTH = 31;
/** Like felix's MaxIpsetSize: ipset's default of 65536 is too small for a big cluster's selector. */
export const IPSET_MAX_ELEMENTS = 1_048_576;
const OUR_SET = /^mg[46t]-/;
const PORT_PROTOCOLS = ['tcp', 'udp', 'sctp'];

interface SetState {
  readonly type: IpSetType | string;
  readonly family: 'inet' | 'inet6';
  readonly maxelem: number;
  readonly members: Set<string>;
}

export interface IpSetManagerOptions {
  readonly runner: CommandRunner;
}

export class IpSetManager implements IpSets {
  private readonly runner: CommandRunner;
  private readonly desired = new Map<string, SetState>();
  /** Sets whose desired and kernel state may differ. */
  private readonly dirty = new Set<string>();
  /** Our sets in the kernel as last read or written; null means read before the next write. */
  private kernel: Map<string, SetState> | null = null;
  /** The kernel was read and not yet compared with every desired set (dirty alone is not enough). */
  private compareAll = true;
  private tempCounter = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: IpSetManagerOptions) {
    this.runner = options.runner;
  }

  replaceMembers(set: IpSetSpec, members: Iterable<string>): void {
    const family = validateSpec(set);
    const canonical = canonicalMembers(set.name, set.type, family, members);
    this.desired.set(set.name, { type: set.type, family, maxelem: IPSET_MAX_ELEMENTS, members: canonical });
    this.dirty.add(set.name);
  }

  addMembers(name: string, members: Iterable<string>): void {
    const set = this.desiredSet(name, 'addMembers');
    for (const member of canonicalMembers(name, set.type, set.family, members)) set.members.add(member);
    this.dirty.add(name);
  }

  removeMembers(name: string, members: Iterable<string>): void {
    const set = this.desiredSet(name, 'removeMembers');
    for (const member of canonicalMembers(name, set.type, set.family, members)) set.members.delete(member);
    this.dirty.add(name);
  }

  removeSet(name: string): void {
    this.desired.delete(name);
    this.dirty.delete(name);
  }

  /** The desired members of a set (canonical text), or undefined if the set is not desired. */
  members(name: string): ReadonlySet<string> | undefined {
    return this.desired.get(name)?.members;
  }

  /** Forgets what we believe the kernel holds: the next apply reads `ipset save` and compares every set. */
  resync(): void {
    this.kernel = null;
  }

  /**
   * Reads `ipset save` ahead of the first apply (felix does this while it lists the datastore), so
   * that apply only compares and writes. Does nothing once the kernel has been read or written.
   * Resolves with how many sets of ours the kernel holds (as read, or as last written).
   */
  prime(): Promise<PrimeResult> {
    return this.serially(async () => {
      this.kernel ??= await this.read();
      return { ours: this.kernel.size };
    });
  }

  applyUpdates(): Promise<IpSetApplyResult> {
    return this.serially(async () => {
      const kernel = this.kernel ?? (await this.read());
      // Taken now: a set changed while the restore runs is for the next apply (a failed restore
      // makes the next apply read the kernel and compare every set).
      const names = this.compareAll ? [...this.desired.keys()] : [...this.dirty];
      this.compareAll = false;
      this.dirty.clear();
      const lines: string[] = [];
      const after = new Map(kernel);
      for (const name of names) {
        const wanted = this.desired.get(name);
        if (wanted === undefined) continue;
        this.updateLines(lines, name, wanted, kernel.get(name));
        after.set(name, cloneState(wanted));
      }
      const written = await this.restore(lines);
      this.kernel = after;
      return written;
    });
  }

  applyDeletions(): Promise<IpSetApplyResult> {
    return this.serially(async () => {
      const kernel = this.kernel ?? (await this.read());
      this.kernel = kernel;
      const unwanted = [...kernel.keys()].filter((name) => !this.desired.has(name));
      const written = await this.restore(unwanted.map((name) => `destroy ${name}`));
      for (const name of unwanted) kernel.delete(name);
      return written;
    });
  }

  private desiredSet(name: string, what: string): SetState {
    const set = this.desired.get(name);
    if (set === undefined)
      throw new Error(`${what}: ipset '${name}' is not a desired set (replaceMembers first)`);
    return set;
  }

  /**
   * Appends the restore lines that turn the kernel's set (if any) into the desired one (appended
   * one by one: a set may hold more members than a spread can pass as arguments).
   */
  private updateLines(lines: string[], name: string, wanted: SetState, current: SetState | undefined): void {
    const create = (setName: string) =>
      lines.push(`create ${setName} ${wanted.type} family ${wanted.family} maxelem ${wanted.maxelem}`);
    const fill = (setName: string) => {
      for (const member of wanted.members) lines.push(`add ${setName} ${member}`);
    };
    if (current === undefined) {
      create(name);
      fill(name);
    } else if (current.type !== wanted.type || current.family !== wanted.family) {
      // The kernel swaps only sets of the same type and family, and a set in use cannot be
      // destroyed: a type change needs the rules referring to the set gone first (or a new name).
      lines.push(`destroy ${name}`);
      create(name);
      fill(name);
    } else if (current.maxelem !== wanted.maxelem) {
      // Other metadata: build a full copy and swap it in, so rules using the set never see it empty.
      const temp = `mgt-${process.pid % 100000}-${this.tempCounter++}`;
      create(temp);
      fill(temp);
      lines.push(`swap ${temp} ${name}`, `destroy ${temp}`);
    } else {
      const start = lines.length;
      // The set's create line again first (a no-op under -exist): ipset restore packs the members
      // of a set it has seen created into a few netlink messages, and sends one message (and waits
      // for its answer) per member of any other set: 9,400 members added cost 266 round trips
      // instead of 9,559, and half the restore's time.
      create(name);
      for (const member of current.members)
        if (!wanted.members.has(member)) lines.push(`del ${name} ${member}`);
      for (const member of wanted.members)
        if (!current.members.has(member)) lines.push(`add ${name} ${member}`);
      if (lines.length === start + 1) lines.length = start; // nothing to change
    }
  }

  private async restore(lines: readonly string[]): Promise<IpSetApplyResult> {
    if (lines.length === 0) return { bytesWritten: 0 };
    const input = `${lines.join('\n')}\n`;
    // -exist: adding a present member or deleting an absent one is already the state we want.
    const result = await this.runner.run(['ipset', 'restore', '-exist'], input);
    if (result.code !== 0) {
      this.kernel = null; // ipset restore is not atomic: read back before the next write
      const lineNumber = Number(/line (\d+)/.exec(result.stderr)?.[1] ?? Number.NaN);
      const line = Number.isInteger(lineNumber) ? lines[lineNumber - 1] : undefined;
      throw new Error(
        `ipset restore failed (${result.code}): ${result.stderr.trim()}` +
          (line === undefined ? '' : `; input line ${lineNumber}: ${line}`),
      );
    }
    return { bytesWritten: Buffer.byteLength(input) };
  }

  /** Every read is compared in full by the next applyUpdates. */
  private async read(): Promise<Map<string, SetState>> {
    this.compareAll = true;
    const result = await this.runner.run(['ipset', 'save']);
    if (result.code !== 0) throw new Error(`ipset save failed (${result.code}): ${result.stderr.trim()}`);
    return parseIpsetSave(result.stdout);
  }

  private serially<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(operation);
    this.queue = result.catch(() => {});
    return result;
  }
}

/** Our sets in `ipset save` output, with their members in the kernel's canonical text. */
export function parseIpsetSave(output: string): Map<string, SetState> {
  const sets = new Map<string, SetState>();
  for (const line of output.split('\n')) {
    const [command, name = '', ...rest] = line.trim().split(/\s+/);
    if (!OUR_SET.test(name)) continue;
    if (command === 'create') {
      const option = (key: string) => {
        const index = rest.indexOf(key);
        return index < 0 ? undefined : rest[index + 1];
      };
      sets.set(name, {
        type: rest[0] ?? '',
        family: option('family') === 'inet6' ? 'inet6' : 'inet',
        maxelem: Number(option('maxelem') ?? 65536),
        members: new Set(),
      });
    } else if (command === 'add' && rest[0] !== undefined) {
      sets.get(name)?.members.add(rest[0]);
    }
  }
  return sets;
}

/** Checks a set's name and type; its family follows from the name (`mg6-` is IPv6, `mg4-` IPv4). */
function validateSpec(set: IpSetSpec): 'inet' | 'inet6' {
  if (!/^mg[46]-[A-Za-z0-9_.:-]+$/.test(set.name) || set.name.length > MAX_SET_NAME_LENGTH) {
    throw new Error(
      `ipset name '${set.name}' is invalid: it must start with 'mg4-' or 'mg6-', use letters, digits ` +
        `and _.:- and be at most ${MAX_SET_NAME_LENGTH} characters`,
    );
  }
  if (!SET_TYPES.includes(set.type)) {
    throw new Error(`ipset '${set.name}': type '${set.type}' is not one of ${SET_TYPES.join(', ')}`);
  }
  return set.name.startsWith('mg6-') ? 'inet6' : 'inet';
}

function canonicalMembers(
  name: string,
  type: IpSetType | string,
  family: 'inet' | 'inet6',
  members: Iterable<string>,
): Set<string> {
  const result = new Set<string>();
  for (const member of members) result.add(canonicalMember(name, type, family, member));
  return result;
}

/** A dotted quad without leading zeros: already as `ipset save` prints it. */
const CANONICAL_IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** The member as `ipset save` prints it, so desired and read-back members compare as strings. */
function canonicalMember(
  name: string,
  type: IpSetType | string,
  family: 'inet' | 'inet6',
  member: string,
): string {
  // Nearly every member is a pod's IPv4 address: skip the general parse for those.
  if (family === 'inet' && (type === 'hash:ip' || type === 'hash:net')) {
    const host = type === 'hash:net' && member.endsWith('/32') ? member.slice(0, -3) : member;
    if (CANONICAL_IPV4.test(host)) return host;
  }
  const what = `ipset '${name}' member`;
  const wantFamily = family === 'inet' ? 4 : 6;
  const checkFamily = (got: number) => {
    if (got !== wantFamily)
      throw new Error(`${what} '${member}' is IPv${got} but the set is IPv${wantFamily}`);
  };
  if (type === 'hash:net') {
    const prefix = parsePrefix(member, what);
    checkFamily(prefix.family);
    // The kernel prints a host prefix as a bare address.
    const full = prefix.family === 4 ? '/32' : '/128';
    return prefix.text.endsWith(full) ? prefix.text.slice(0, -full.length) : prefix.text;
  }
  if (type === 'hash:ip,port') {
    const comma = member.lastIndexOf(',');
    const address = canonicalAddress(member.slice(0, comma < 0 ? member.length : comma), what);
    checkFamily(address.family);
    const portPart = comma < 0 ? '' : member.slice(comma + 1);
    const [protocol, port] = portPart.includes(':') ? portPart.toLowerCase().split(':') : ['tcp', portPart];
    const portNumber = Number(port);
    if (!PORT_PROTOCOLS.includes(protocol ?? '') || !/^\d+$/.test(port ?? '') || portNumber > 65535) {
      throw new Error(`${what} '${member}' must be <address>,<tcp|udp|sctp>:<port 0-65535>`);
    }
    return `${address.text},${protocol}:${portNumber}`;
  }
  const address = canonicalAddress(member, what);
  checkFamily(address.family);
  return address.text;
}

function cloneState(state: SetState): SetState {
  return { ...state, members: new Set(state.members) };
}
