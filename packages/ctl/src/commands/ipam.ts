import { isIP } from 'node:net';
import type { Datastore } from '@margay/datastore';
import { type AllocationBlock, type CheckReport, Ipam, ipamKeys, type PoolUsage } from '@margay/ipam';
import { Option } from 'commander';
import { addConnectionOptions, type ConnectionOptions, type RegisterCommand } from '../context';
import { CommandError, UsageError } from '../errors';
import { renderTable } from '../table';

interface ShowOptions extends ConnectionOptions {
  showBlocks?: boolean;
  ip?: string;
}

/** `ipam show`, `ipam check` and `ipam release`: calicoctl's IPAM commands on margay's IPAM state. */
export const registerIpamCommand: RegisterCommand = (program, context) => {
  const ipam = program.command('ipam').description('show, check and repair IP address allocations');

  addConnectionOptions(
    ipam
      .command('show')
      .description('addresses in use per IP pool (and block), or who holds one address')
      .option('--show-blocks', 'one row per allocation block too')
      .addOption(
        new Option('--ip <ip>', 'whether this address is in use, and by whom').conflicts('showBlocks'),
      ),
  ).action(async (options: ShowOptions) => {
    const ip = options.ip;
    if (ip !== undefined) checkIp(ip);
    const text = await context.withDatastore(options, async (store) =>
      ip === undefined
        ? renderUsage(await new Ipam(store).usage(), options.showBlocks ?? false)
        : renderAllocation(ip, await findAllocation(store, ip)),
    );
    context.io.stdout.write(text);
  });

  addConnectionOptions(
    ipam.command('check').description('find leaked and doubly allocated addresses (exit 1 if any)'),
  ).action(async (options: ConnectionOptions) => {
    const report = await context.withDatastore(options, (store) => new Ipam(store).check());
    if (!report.clean) throw new CommandError(describeProblems(report));
    context.io.stdout.write(`Checked ${report.allocations} allocated addresses: no problems found.\n`);
  });

  addConnectionOptions(
    ipam
      .command('release')
      .description('release one allocated address, whoever holds it')
      .requiredOption('--ip <ip>', 'the address to release'),
  ).action(async (options: ConnectionOptions & { ip: string }) => {
    checkIp(options.ip);
    const released = await context.withDatastore(options, (store) => new Ipam(store).releaseIp(options.ip));
    if (!released) throw new CommandError([`IP ${options.ip} is not allocated; nothing was released`]);
    context.io.stdout.write(`Released IP ${options.ip}\n`);
  });
};

function checkIp(ip: string): void {
  if (isIP(ip) === 0) throw new UsageError(`--ip ${JSON.stringify(ip)} is not an IP address`);
}

/** calicoctl's `ipam show` table: one row per pool, and per block with `showBlocks`. */
export function renderUsage(pools: PoolUsage[], showBlocks: boolean): string {
  const row = (grouping: string, cidr: string, total: number, used: number) => [
    grouping,
    cidr,
    String(total),
    withPercent(used, total),
    withPercent(total - used, total),
  ];
  const rows = pools.flatMap((pool) => [
    row('IP Pool', pool.cidr, pool.total, pool.inUse),
    ...(showBlocks ? pool.blocks.map((block) => row('Block', block.cidr, block.total, block.inUse)) : []),
  ]);
  return renderTable(['GROUPING', 'CIDR', 'IPS TOTAL', 'IPS IN USE', 'IPS FREE'], rows);
}

/** `64 (50%)`; a share that is not 0 never rounds to 0%, so a pool in use never reads as unused. */
function withPercent(count: number, total: number): string {
  const percent = total === 0 ? 0 : (count / total) * 100;
  const shown = count > 0 && percent < 1 ? '<1' : String(Math.round(percent));
  return `${count} (${shown}%)`;
}

export interface Allocation {
  handle: string;
  attributes: Record<string, string>;
}

export function renderAllocation(ip: string, allocation: Allocation | undefined): string {
  if (!allocation) return `IP ${ip} is not assigned\n`;
  const attributes = Object.entries(allocation.attributes).sort(([a], [b]) => a.localeCompare(b));
  return [
    `IP ${ip} is in use`,
    `Handle ID: ${allocation.handle}`,
    'Attributes:',
    ...(attributes.length === 0 ? ['  (none)'] : attributes.map(([name, value]) => `  ${name}: ${value}`)),
  ]
    .map((line) => `${line}\n`)
    .join('');
}

/** Who holds `ip`: found in the block that contains it. */
async function findAllocation(store: Datastore, ip: string): Promise<Allocation | undefined> {
  const address = ipValue(ip);
  for (const { value } of (await store.list(ipamKeys.blocks(address.family))).items) {
    const block = JSON.parse(value) as AllocationBlock;
    const ordinal = ordinalIn(block.cidr, address);
    if (ordinal === undefined) continue;
    const index = block.allocations[ordinal];
    const attribute = index === null || index === undefined ? undefined : block.attributes[index];
    return attribute && { handle: attribute.handle_id, attributes: attribute.secondary };
  }
  return undefined;
}

interface IpValue {
  family: 4 | 6;
  value: bigint;
}

/** The address's position in `cidr`, if it lies there. */
function ordinalIn(cidr: string, address: IpValue): number | undefined {
  const [base = '', prefix = ''] = cidr.split('/');
  const start = ipValue(base);
  if (start.family !== address.family) return undefined;
  const size = 1n << BigInt((address.family === 4 ? 32 : 128) - Number(prefix));
  const offset = address.value - start.value;
  return offset >= 0n && offset < size ? Number(offset) : undefined;
}

/** An address (already checked with isIP) as a number. */
function ipValue(text: string): IpValue {
  if (isIP(text) === 4) return { family: 4, value: v4Groups(text).reduce(shiftIn(8), 0n) };
  const groups = (part: string) =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = v4Groups(group);
          return [a * 256 + b, c * 256 + d];
        });
  const [head = '', tail] = text.split('%')[0]!.split('::');
  const start = groups(head);
  const end = tail === undefined ? [] : groups(tail);
  const all = [...start, ...new Array<number>(8 - start.length - end.length).fill(0), ...end];
  return { family: 6, value: all.reduce(shiftIn(16), 0n) };
}

const v4Groups = (text: string) => text.split('.').map(Number);
const shiftIn = (bits: number) => (value: bigint, group: number) => (value << BigInt(bits)) + BigInt(group);

/** One line per problem `ipam check` found, then a summary. */
function describeProblems(report: CheckReport): string[] {
  const lines = [
    ...report.leaks.map((leak) =>
      leak.reason === 'handle-missing'
        ? `leaked: ${leak.ip} in block ${leak.block} is held by handle ${leak.handle}, which has no handle record`
        : `leaked: ${leak.ip} in block ${leak.block} is held by handle ${leak.handle}, which is not live`,
    ),
    ...report.doubleAllocations.map(
      (double) =>
        `allocated twice: ${double.ip} (${double.holders
          .map((holder) => `block ${holder.block}, handle ${holder.handle}`)
          .join('; ')})`,
    ),
    ...report.handleMismatches.map(
      (mismatch) =>
        `handle ${mismatch.handle} records ${mismatch.recorded} addresses in block ${mismatch.block}, the block holds ${mismatch.actual}`,
    ),
    ...report.blockProblems.map((problem) => `block ${problem.block}: ${problem.message}`),
  ];
  return [...lines, `IPAM check: ${lines.length} problems among ${report.allocations} allocated addresses`];
}
