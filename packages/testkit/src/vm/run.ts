import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '../tmp';
import { buildInitramfs, scriptArchive } from './initramfs';
import { findCloudKernel, type VmKernel } from './kernel';

export interface VmRunOptions {
  /**
   * Shell script run inside the VM as root (/bin/sh is dash; busybox supplies the other tools).
   * Its exit code is the result's code.
   */
  script: string;
  /** Kill the VM and fail after this long (default 120 s: software emulation is slow, not stuck). */
  timeoutMs?: number;
  /** Guest memory in MiB (default 256). */
  memoryMb?: number;
  /** Extra kernel modules to load at boot (dependencies are added from modules.dep). */
  modules?: string[];
  /** The kernel to boot (default: the newest Debian cloud kernel in /boot). */
  kernel?: VmKernel;
  /** Told qemu's pid once it runs (tests use it to check the VM is gone afterwards). */
  onSpawn?: (pid: number) => void;
}

export interface VmRunResult {
  /** The script's exit code. */
  code: number;
  /** What the script wrote (stdout and stderr), between the markers, without carriage returns. */
  output: string;
  /** Milliseconds from starting qemu until the script started (host clock). */
  bootMs: number;
  /** Milliseconds the script ran (host clock, between the markers). */
  scriptMs: number;
  /** Milliseconds from starting qemu until it exited. */
  totalMs: number;
  /** The guest's /proc/uptime when the script started (seconds since the kernel began). */
  guestUptimeAtStart: number;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function requireQemu(): string {
  const found = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error(
      "'qemu-system-x86_64' is not installed: apt-get install qemu-system-x86 (or run scripts/setup)",
    );
  }
  return found.stdout.trim();
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * Boot Debian's cloud kernel under qemu with a small initramfs, run `script` there, and return
 * its exit code and output (read from the serial console between per-run random markers). The
 * VM powers itself off after the script; on timeout or any failure qemu is killed by pid and the
 * error carries the console's last lines. Temporary files are always removed.
 */
export async function runInVm(options: VmRunOptions): Promise<VmRunResult> {
  const qemu = requireQemu();
  const kernel = options.kernel ?? findCloudKernel();
  const timeoutMs = options.timeoutMs ?? 120_000;
  const base = buildInitramfs({ kernel, modules: options.modules ?? [] });

  const nonce = randomBytes(8).toString('hex');
  const begin = `@@margay-vm-begin-${nonce}@@`;
  const end = `@@margay-vm-end-${nonce}@@`;
  const dir = makeTempDir('vm');
  try {
    // The kernel unpacks concatenated archives in order: the cached base, then this run's script.
    const initrd = join(dir, 'initrd.cpio.gz');
    writeFileSync(
      initrd,
      Buffer.concat([readFileSync(base.path), scriptArchive(options.script, begin, end)]),
    );

    // Software emulation always: CI machines have no usable KVM (nested KVM here fails on MSRs).
    const args = [
      '-accel',
      'tcg',
      '-m',
      `${options.memoryMb ?? 256}M`,
      '-smp',
      '1',
      '-nographic',
      '-nodefaults',
      '-no-reboot',
      '-serial',
      'stdio',
      '-monitor',
      'none',
      '-kernel',
      kernel.image,
      '-initrd',
      initrd,
      '-append',
      'console=ttyS0 panic=-1 quiet loglevel=1 rdinit=/init',
    ];
    return await boot(qemu, args, begin, end, timeoutMs, options.onSpawn);
  } finally {
    removeTempDir(dir);
  }
}

function boot(
  qemu: string,
  args: string[],
  begin: string,
  end: string,
  timeoutMs: number,
  onSpawn: ((pid: number) => void) | undefined,
): Promise<VmRunResult> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    if (child.pid !== undefined) onSpawn?.(child.pid);
    let consoleText = '';
    let stderr = '';
    let beganAt = 0;
    let endedAt = 0;
    let settled = false;

    // A failure kills qemu and rejects once it has exited, so the caller never races a live VM.
    let failure: Error | undefined;
    const fail = (message: string) => {
      if (settled || failure) return;
      clearTimeout(timer);
      const clean = consoleText.replace(/\r/g, '');
      failure = new Error(
        `${message}\n--- qemu ${args.join(' ')}\n--- console (last lines):\n${tail(clean)}\n--- qemu stderr:\n${tail(stderr)}`,
      );
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
        settled = true;
        reject(failure);
      } else {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => fail(`VM did not finish within ${timeoutMs} ms (qemu killed)`), timeoutMs);

    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      consoleText += chunk;
      if (!beganAt && consoleText.includes(begin)) beganAt = Date.now();
      if (!endedAt && consoleText.includes(end)) endedAt = Date.now();
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', (error) => fail(`could not start qemu: ${error.message}`));
    // 'close', not 'exit': by then all console output has been read.
    child.on('close', (code, signal) => {
      live.delete(child);
      if (settled) return;
      if (failure) {
        settled = true;
        reject(failure);
        return;
      }
      const clean = consoleText.replace(/\r/g, '');
      const beginAt = clean.indexOf(begin);
      const beginLineEnd = beginAt < 0 ? -1 : clean.indexOf('\n', beginAt);
      if (beginAt < 0 || beginLineEnd < 0)
        return fail(`the VM never started the script (qemu exit ${code ?? signal})`);
      const endAt = clean.indexOf(end, beginLineEnd);
      if (endAt < 0) return fail(`the script did not finish (qemu exit ${code ?? signal})`);
      const codeMatch = /^ code=(\d+)/.exec(clean.slice(endAt + end.length));
      const uptimeMatch = /uptime=([\d.]+)/.exec(clean.slice(beginAt, beginLineEnd));
      if (!codeMatch?.[1]) return fail('the end marker carries no exit code');
      settled = true;
      clearTimeout(timer);
      // The end marker is echoed on its own line, so the script's output ends just before it.
      const output = clean.slice(beginLineEnd + 1, endAt).replace(/\n?$/, '');
      resolve({
        code: Number(codeMatch[1]),
        output: output.length > 0 ? `${output}\n` : '',
        bootMs: beganAt - started,
        scriptMs: endedAt - beganAt,
        totalMs: Date.now() - started,
        guestUptimeAtStart: Number(uptimeMatch?.[1] ?? Number.NaN),
      });
    });
  });
}
