// The tunnel manager's hold on the kernel: each apply reads what the kernel holds, plans the
// difference and writes it: devices, addresses, ARP and FDB entries first, then the routes (one
// `ip -batch` through a RouteTable tagged with the tunnel proto, 79), then the removal of devices
// no pool needs any more. Only tunl0, vxlan.margay and routes of proto 79 are ever touched.
// Applies run one at a time; a failed command is reported and the next apply tries again.

import {
  type CommandRunner,
  type KernelRoute,
  RecordingRunner,
  ROUTE_PROTO,
  RouteTable,
} from '@margay/dataplane';
import { EMPTY_KERNEL_STATE, type KernelTunnelState, readKernelTunnelState } from './kernel';
import { planTunnelCommands, type TunnelCommand } from './plan';
import { EMPTY_TUNNEL_STATE, type TunnelState } from './state';

export interface ApplyResult {
  /** Commands written (device and entry commands, plus one per route batch). */
  readonly commands: number;
  /** What failed, one message per failed command or refused route. */
  readonly failures: readonly string[];
}

export class TunnelDataplane {
  private readonly runner: CommandRunner;
  private readonly routes: RouteTable;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: { readonly runner: CommandRunner }) {
    this.runner = options.runner;
    this.routes = new RouteTable({ runner: options.runner, proto: ROUTE_PROTO.tunnel });
  }

  /** Makes the kernel hold `desired`. Rejects only if the kernel state cannot be read. */
  apply(desired: TunnelState): Promise<ApplyResult> {
    const result = this.queue.then(() => this.applyNow(desired));
    this.queue = result.catch(() => {});
    return result;
  }

  /** Removes everything of ours: routes, entries, devices. */
  remove(): Promise<ApplyResult> {
    return this.apply(EMPTY_TUNNEL_STATE);
  }

  private async applyNow(desired: TunnelState): Promise<ApplyResult> {
    // Validate the routes before anything is written, so bad input changes nothing.
    const routes = new Map<string, KernelRoute>();
    for (const route of desired.routes) {
      new RouteTable({ runner: new RecordingRunner(), proto: ROUTE_PROTO.tunnel }).set(route);
      routes.set(route.dst, route);
    }
    const current = await readKernelTunnelState(this.runner);
    return this.write(current, desired, routes);
  }

  private async write(
    current: KernelTunnelState,
    desired: TunnelState,
    routes: ReadonlyMap<string, KernelRoute>,
  ): Promise<ApplyResult> {
    const plan = planTunnelCommands(current, desired);
    const failures: string[] = [];
    let commands = 0;
    const run = async (steps: readonly TunnelCommand[]) => {
      for (const step of steps) {
        commands++;
        const failure = await this.runStep(step);
        if (failure !== undefined) failures.push(failure);
      }
    };
    await run(plan.setup);
    for (const dst of this.routes.routes().keys()) if (!routes.has(dst)) this.routes.delete(dst);
    for (const route of routes.values()) this.routes.set(route);
    const written = await this.routes.reconcile();
    if (written.lines > 0) commands++;
    for (const failure of written.failures) {
      failures.push(`route ${failure.dst} not programmed (${failure.line}): ${failure.error}`);
    }
    await run(plan.teardown);
    return { commands, failures };
  }

  private async runStep(step: TunnelCommand): Promise<string | undefined> {
    const result = await this.runner.run(step.argv);
    if (result.code === 0) return undefined;
    if (step.tolerate !== undefined && result.stderr.includes(step.tolerate)) return undefined;
    return `${step.argv.join(' ')} failed (${result.code}): ${result.stderr.trim()}`;
  }
}

/** A command as `plannedCommands` gives it: stdin for the route batch, and what failure to accept. */
export interface PlannedCommand {
  readonly argv: readonly string[];
  readonly input: string;
  readonly tolerate?: string;
}

/**
 * The exact commands the manager runs to bring a node without tunnel state to `desired`, in the
 * order it runs them (the routes as one `ip -force -batch -` with its stdin). For running the
 * manager's output where margay itself does not run, such as the IPIP proof's VM.
 */
export async function plannedCommands(desired: TunnelState): Promise<PlannedCommand[]> {
  const plan = planTunnelCommands(EMPTY_KERNEL_STATE, desired);
  // The route table reads the kernel first: answer that it holds no routes of ours.
  const recorder = new RecordingRunner(() => ({ stdout: '[]' }));
  const table = new RouteTable({ runner: recorder, proto: ROUTE_PROTO.tunnel });
  for (const route of desired.routes) table.set(route);
  await table.reconcile();
  const batches = recorder.commands.filter((command) => command.argv.includes('-batch'));
  const planned = (steps: readonly TunnelCommand[]): PlannedCommand[] =>
    steps.map((step) => ({ argv: step.argv, input: '', ...(step.tolerate && { tolerate: step.tolerate }) }));
  return [...planned(plan.setup), ...batches, ...planned(plan.teardown)];
}

/**
 * Planned commands as a POSIX shell script that stops at the first failure, except where the
 * manager accepts one (such as tunl0 already existing as the ipip module's fallback device).
 */
export function commandsAsScript(commands: readonly PlannedCommand[]): string {
  const lines = ['set -e'];
  for (const command of commands) {
    const words = command.argv.map(shellWord).join(' ');
    if (command.input !== '') lines.push(`${words} <<'EOF'\n${command.input}EOF`);
    else if (command.tolerate !== undefined)
      lines.push(
        `out=$(${words} 2>&1) || case $out in *${shellWord(command.tolerate)}*) ;; *) echo "$out" >&2; exit 1 ;; esac`,
      );
    else lines.push(words);
  }
  return `${lines.join('\n')}\n`;
}

function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
