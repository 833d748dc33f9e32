import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** A kernel image on this machine and the module tree built for it. */
export interface VmKernel {
  version: string;
  image: string;
  modulesDir: string;
}

const INSTALL_HINT = 'apt-get install linux-image-cloud-amd64 (or run scripts/setup)';

/** Compare Debian kernel versions like 6.1.0-56-cloud-amd64 numerically, part by part. */
function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

/**
 * Debian's cloud kernel (small, boots fast, has ipip/veth/netfilter as modules): the newest one
 * installed under `bootDir`. Throws naming the package to install when there is none.
 */
export function findCloudKernel(bootDir = '/boot', modulesRoot = '/lib/modules'): VmKernel {
  const versions = existsSync(bootDir)
    ? readdirSync(bootDir)
        .filter((name) => /^vmlinuz-.+-cloud-amd64$/.test(name))
        .map((name) => name.slice('vmlinuz-'.length))
    : [];
  const version = versions.sort(compareVersions).at(-1);
  if (!version) {
    throw new Error(`no Debian cloud kernel (${bootDir}/vmlinuz-*-cloud-amd64) found: ${INSTALL_HINT}`);
  }
  const modulesDir = join(modulesRoot, version);
  if (!existsSync(join(modulesDir, 'modules.dep'))) {
    throw new Error(
      `kernel ${version} has no module tree at ${modulesDir} (modules.dep missing): ${INSTALL_HINT}`,
    );
  }
  return { version, image: join(bootDir, `vmlinuz-${version}`), modulesDir };
}

/**
 * The modules to load, dependencies first, for `wanted` (names like "ipip"), read from the
 * module tree's modules.dep. Each module appears once, with its path relative to `modulesDir`.
 */
export function moduleLoadOrder(modulesDep: string, wanted: readonly string[]): string[] {
  const depsOf = new Map<string, string[]>();
  const pathOf = new Map<string, string>();
  for (const line of modulesDep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon).trim();
    const deps = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .filter(Boolean);
    depsOf.set(path, deps);
    pathOf.set(moduleName(path), path);
  }
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (path: string): void => {
    if (order.includes(path)) return;
    if (visiting.has(path)) throw new Error(`modules.dep: dependency cycle through ${path}`);
    visiting.add(path);
    for (const dep of depsOf.get(path) ?? []) visit(dep);
    visiting.delete(path);
    order.push(path);
  };
  for (const name of wanted) {
    const path = pathOf.get(name.replace(/-/g, '_'));
    if (!path) throw new Error(`kernel module '${name}' is not in modules.dep (not built for this kernel?)`);
    visit(path);
  }
  return order;
}

/** "kernel/net/ipv4/ipip.ko" → "ipip" (the name the kernel uses, dashes as underscores). */
export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}
