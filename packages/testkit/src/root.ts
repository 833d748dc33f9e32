import { spawnSync } from 'node:child_process';

/**
 * Tests with real parts need root (network namespaces, iptables) or a binary from Debian.
 * They must not pass silently where those are missing: this throws a loud, explanatory error
 * that fails the test, naming what to install or how to run.
 */
export function requireRoot(what: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${what} needs root (network namespaces, routes, iptables): run the tests as root, e.g. scripts/test`,
    );
  }
}

export function requireCommand(command: string, debianPackage: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new Error(`'${command}' is not installed: run scripts/setup (Debian package ${debianPackage})`);
  }
}
