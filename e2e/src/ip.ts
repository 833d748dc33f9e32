import { execFileSync } from 'node:child_process';

/** Runs `ip <args>` (iproute2); a failure throws naming the command and ip's own complaint. */
export function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    if (code === 'ENOENT')
      throw new Error("'ip' is not installed: run scripts/setup (Debian package iproute2)");
    throw new Error(`ip ${args.join(' ')} failed: ${stderr?.trim() || (error as Error).message}`);
  }
}

export function listNetns(): string[] {
  return (JSON.parse(ip('-j', 'netns', 'list') || '[]') as { name: string }[]).map((n) => n.name);
}

/** Interface names of the host's own network namespace. */
export function listHostLinks(): string[] {
  return (JSON.parse(ip('-j', 'link', 'show')) as { ifname: string }[]).map((l) => l.ifname);
}

/** Processes whose network namespace is `netns`. */
export function netnsPids(netns: string): number[] {
  return ip('netns', 'pids', netns)
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(Number);
}
