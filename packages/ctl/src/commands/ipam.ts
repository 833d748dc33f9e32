import { isIP } from 'node:net';
import { type CheckReport, type GcReport, type IpAllocation, Ipam, type PoolUsage } from '@margay/ipam';
import { Option } from 'commander';
import { addConnectionOptions, type ConnectionOptions, type RegisterCommand } from '../context';
import { CommandError, UsageError } from '../errors';
import { renderTable } from '../table';

interface ShowOptions extends ConnectionOptions {
  showBlocks?: boolean;
  showBorrowed?: boolean;
  ip?: string;
}

/** `ipam show`, `check`, `release` and `gc`: calicoctl's IPAM commands on margay's IPAM state. */
export const registerIpamCommand: RegisterCommand = (program, context) => {
  const ipam = program.command('ipam').description('show, check and repair IP address allocations');

  addConnectionOptions(
    ipam
      .command('show')
      .description('addresses in use per IP pool (and block), borrowed addresses, or who holds one address')
      .option('--show-blocks', 'one row per allocation block too')
      .addOption(
        new Option('--show-borrowed', 'addresses nodes took from blocks affine to other nodes').conflicts(
          'showBlocks',
        ),
      )
      .addOption(
        new Option('--ip <ip>', 'whether this address is in use, and by whom').conflicts([
          'showBlocks',
          'showBorrowed',
        ]),
      ),
  ).action(async (options: ShowOptions) => {
    const ip = options.ip;
    if (ip !== undefined) checkIp(ip);
    const text = await context.withDatastore(options, async (store) => {
      const ipam = new Ipam(store);
      if (ip !== undefined) return renderAllocation(ip, await ipam.lookupIp(ip));
      if (options.showBorrowed) return renderBorrowed(await ipam.borrowed());
      return renderUsage(await ipam.usage(), options.showBlocks ?? false);
    });
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

  addConnectionOptions(
    ipam
      .command('gc')
      .description(
        "free addresses no WorkloadEndpoint uses and tunnel addresses of deleted nodes; release deleted nodes' blocks",
      )
      .option('--dry-run', 'only print what would be freed'),
  ).action(async (options: ConnectionOptions & { dryRun?: boolean }) => {
    const dryRun = options.dryRun ?? false;
    const report = await context.withDatastore(options, (store) => new Ipam(store).gcLeaks({ dryRun }));
    context.io.stdout.write(renderGc(report, dryRun));
  });
};

function checkIp(ip: string): void {
  // Zone ids (fe80::1%eth0) name an interface, not an address IPAM could hold.
  if (isIP(ip) === 0 || ip.includes('%'))
    throw new UsageError(`--ip ${JSON.stringify(ip)} is not an IP address`);
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

export function renderAllocation(ip: string, allocation: IpAllocation | undefined): string {
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

/** calicoctl's `ipam show --show-borrowed` table. */
export function renderBorrowed(allocations: IpAllocation[]): string {
  const rows = allocations.map((allocation) => {
    const { node = '', type, namespace, pod, containerID } = allocation.attributes;
    return [
      allocation.ip,
      node,
      allocation.block,
      allocation.blockOwner ?? '(none)',
      type ?? (pod !== undefined ? 'pod' : containerID !== undefined ? 'container' : '(unknown)'),
      pod !== undefined ? `${namespace ?? ''}/${pod}` : (containerID ?? allocation.handle),
    ];
  });
  return renderTable(['IP', 'BORROWING-NODE', 'BLOCK', 'BLOCK OWNER', 'TYPE', 'ALLOCATED-TO'], rows);
}

/** One line per freed address and per deleted node, in the past tense or, on a dry run, the conditional. */
export function renderGc(report: GcReport, dryRun: boolean): string {
  const [free, release] = dryRun ? ['Would free', 'Would release'] : ['Freed', 'Released'];
  const why = { 'no-endpoint': 'no WorkloadEndpoint uses it', 'node-deleted': 'its node is deleted' };
  const lines = [
    ...report.freed.map(
      (leak) => `${free} ${leak.ip} (handle ${leak.handle}, block ${leak.block}): ${why[leak.reason]}`,
    ),
    ...report.releasedNodes.map(
      ({ node, blocks }) => `${release} ${blocks} block(s) of deleted node ${node}`,
    ),
  ];
  return lines.length === 0
    ? 'No leaked addresses or blocks of deleted nodes found.\n'
    : lines.map((line) => `${line}\n`).join('');
}

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
