// How the dataplane runs tools: one interface, a real runner that spawns processes (optionally
// inside a network namespace) and a recording fake for unit tests. A netlink backend could
// replace the real one later without touching the writers.

import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandRunner {
  /** Runs argv (argv[0] is the program), feeding `input` to stdin. Never rejects on a non-zero exit. */
  run(argv: readonly string[], input?: string): Promise<CommandResult>;
}

export interface ProcessRunnerOptions {
  /** Run every command inside this named network namespace (`ip netns exec`). */
  readonly netns?: string;
  /**
   * The scheduling priority (nice, -20 to 19) of every command. Below 0 takes CAP_SYS_NICE;
   * without it the commands run at the default priority. Default: unchanged.
   */
  readonly priority?: number;
}

export class ProcessRunner implements CommandRunner {
  private readonly prefix: readonly string[];
  private readonly priority: number | undefined;

  constructor(options: ProcessRunnerOptions = {}) {
    this.prefix = options.netns === undefined ? [] : ['ip', 'netns', 'exec', options.netns];
    const { priority } = options;
    if (priority !== undefined && !(Number.isInteger(priority) && priority >= -20 && priority <= 19)) {
      throw new Error(`ProcessRunner priority ${priority} must be a whole number from -20 to 19`);
    }
    this.priority = priority;
  }

  run(argv: readonly string[], input = ''): Promise<CommandResult> {
    const [program, ...args] = [...this.prefix, ...argv];
    if (program === undefined) return Promise.reject(new Error('cannot run an empty command'));
    return new Promise((resolve, reject) => {
      const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      if (this.priority !== undefined && child.pid !== undefined) prioritize(child.pid, this.priority);
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (error) => reject(new Error(`cannot run ${program}: ${error.message}`)));
      child.on('close', (code, signal) =>
        resolve({
          code: code ?? (signal ? 128 : 1),
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
        }),
      );
      // A tool that exits early closes stdin; the exit code reports what went wrong, not EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    });
  }
}

/** Sets a started command's priority; one that has exited, or a runner without the right, leaves it as it is. */
function prioritize(pid: number, priority: number): void {
  try {
    setPriority(pid, priority);
  } catch {
    // ESRCH (it ended already) or EACCES (no CAP_SYS_NICE): it runs at the default priority.
  }
}

export interface RecordedCommand {
  readonly argv: readonly string[];
  readonly input: string;
}

export type CommandResponder = (command: RecordedCommand) => Partial<CommandResult>;

/** A fake runner for unit tests: records every command and answers through `respond` (default: success). */
export class RecordingRunner implements CommandRunner {
  readonly commands: RecordedCommand[] = [];
  respond: CommandResponder;

  constructor(respond: CommandResponder = () => ({})) {
    this.respond = respond;
  }

  async run(argv: readonly string[], input = ''): Promise<CommandResult> {
    const command = { argv: [...argv], input };
    this.commands.push(command);
    return { code: 0, stdout: '', stderr: '', ...this.respond(command) };
  }

  /** The stdin of every `ip -batch` run so far, in order. */
  batches(): string[] {
    return this.commands.filter((c) => c.argv.includes('-batch')).map((c) => c.input);
  }
}
