import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type CpioEntry, writeCpio } from './cpio';
import { moduleLoadOrder, moduleName, type VmKernel } from './kernel';

/** Modules every margay VM gets: IPIP tunnels, veth pairs, and iptables (legacy) for counters. */
export const DEFAULT_VM_MODULES = ['ipip', 'veth', 'iptable_filter', 'xt_comment'];

/** Where the real (non-busybox) tools live in the guest: first on PATH, so they win over applets. */
const TOOLS_DIR = '/usr/local/sbin';
const MODULES_DIR = '/lib/modules/margay';
const XTABLES_DIR = '/usr/lib/x86_64-linux-gnu/xtables';
/** iptables extensions a test is likely to want; each is a shared object loaded on demand. */
const XTABLES_EXTENSIONS = [
  'libxt_standard.so',
  'libxt_tcp.so',
  'libxt_udp.so',
  'libipt_icmp.so',
  'libxt_comment.so',
];

interface HostTool {
  /** Name in the guest (under TOOLS_DIR). */
  name: string;
  hostPath: string;
  debianPackage: string;
  /** Extra guest names pointing at the same binary (multi-call binaries dispatch on argv[0]). */
  aliases?: string[];
}

const TOOLS: HostTool[] = [
  // Debian's busybox-static runs its own applets before anything on PATH (its `ip` would shadow
  // iproute2's), so scripts run under dash (Debian's essential /bin/sh) and busybox only fills gaps.
  { name: 'dash', hostPath: '/bin/dash', debianPackage: 'dash' },
  { name: 'ip', hostPath: '/usr/bin/ip', debianPackage: 'iproute2' },
  {
    name: 'xtables-legacy-multi',
    hostPath: '/usr/sbin/xtables-legacy-multi',
    debianPackage: 'iptables',
    aliases: ['iptables', 'iptables-save', 'iptables-restore'],
  },
];

export interface InitramfsOptions {
  kernel: VmKernel;
  /** Kernel modules to load at boot, besides DEFAULT_VM_MODULES. */
  modules?: string[];
  /** Cache directory (default /var/cache/margay/vm when writable, else a temp dir). */
  cacheDir?: string;
}

export interface BuiltInitramfs {
  path: string;
  hash: string;
  /** Whether this call built it (false: it came from the cache). */
  built: boolean;
  modules: string[];
}

function requireFile(path: string, debianPackage: string, what: string): void {
  if (!existsSync(path)) {
    throw new Error(`${what} not found at ${path}: apt-get install ${debianPackage} (or run scripts/setup)`);
  }
}

/** Shared libraries (and the dynamic loader) `binary` needs, as ldd resolves them on this host. */
function sharedLibraries(binary: string): string[] {
  const result = spawnSync('ldd', [binary], { encoding: 'utf8' });
  if (result.error) throw new Error(`ldd ${binary}: ${result.error.message} (apt-get install libc-bin)`);
  const out = `${result.stdout}${result.stderr}`;
  if (/not a dynamic executable/.test(out)) return [];
  if (result.status !== 0) throw new Error(`ldd ${binary} failed: ${out.trim()}`);
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    if (/=>\s*not found/.test(line)) throw new Error(`ldd ${binary}: missing library: ${line.trim()}`);
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) libs.push(match[1]);
  }
  return libs;
}

function defaultCacheDir(): string {
  const system = '/var/cache/margay/vm';
  try {
    mkdirSync(system, { recursive: true });
    accessSync(system, constants.W_OK);
    return system;
  } catch {
    return join(tmpdir(), 'margay-vm-cache');
  }
}

function initScript(modules: readonly string[]): string {
  const insmods = modules
    .map((name) => `insmod ${MODULES_DIR}/${name}.ko || echo "margay-vm: insmod ${name} failed" >&2`)
    .join('\n');
  return `#!/bin/sh
# PID 1 of the margay test VM (dash; busybox supplies mount, insmod, poweroff): mount the basics, load modules, run /margay/script.sh, report, power off.
export PATH=${TOOLS_DIR}:/usr/sbin:/usr/bin:/sbin:/bin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
${insmods}
ip link set lo up
. /margay/run.env
read -r uptime _ < /proc/uptime
echo "\${MARGAY_BEGIN} uptime=\${uptime}"
/bin/sh /margay/script.sh < /dev/null 2>&1
rc=$?
echo "\${MARGAY_END} code=\${rc}"
poweroff -f
`;
}

/**
 * The base initramfs for test VMs (cpio.gz): static busybox, dash as /bin/sh, the host's real iproute2 `ip` and
 * iptables-legacy with their shared libraries, the kernel modules (dependencies first) and /init.
 * The per-run script is appended as a second archive by the runner. Cached by content hash, so
 * it is rebuilt only when an input (binary, library, module, init script) changes.
 */
export function buildInitramfs(options: InitramfsOptions): BuiltInitramfs {
  const { kernel } = options;
  requireFile('/bin/busybox', 'busybox-static', 'busybox');
  const busyboxFile = spawnSync('/bin/busybox', ['--list-full'], { encoding: 'utf8' });
  if (busyboxFile.status !== 0) throw new Error(`/bin/busybox --list-full failed: ${busyboxFile.stderr}`);

  const modulesDep = readFileSync(join(kernel.modulesDir, 'modules.dep'), 'utf8');
  const modulePaths = moduleLoadOrder(modulesDep, [...DEFAULT_VM_MODULES, ...(options.modules ?? [])]);
  for (const path of modulePaths) {
    if (!path.endsWith('.ko')) {
      throw new Error(`module ${path} is compressed: busybox insmod here needs plain .ko files`);
    }
  }
  const moduleNames = modulePaths.map(moduleName);

  const files = new Map<string, { data: Buffer; mode: number }>();
  const symlinks = new Map<string, string>();
  const addFile = (guestPath: string, hostPath: string, mode: number) => {
    if (!files.has(guestPath)) files.set(guestPath, { data: readFileSync(hostPath), mode });
  };

  addFile('/bin/busybox', '/bin/busybox', 0o755);
  for (const applet of busyboxFile.stdout.split('\n').filter(Boolean)) {
    const guestPath = `/${applet}`;
    if (guestPath !== '/bin/busybox') symlinks.set(guestPath, '/bin/busybox');
  }
  for (const tool of ['ip', 'sh']) {
    for (const dir of ['/bin', '/sbin', '/usr/bin', '/usr/sbin']) symlinks.delete(`${dir}/${tool}`);
  }
  symlinks.set('/bin/sh', `${TOOLS_DIR}/dash`);
  const libraries = new Set<string>();
  for (const tool of TOOLS) {
    requireFile(tool.hostPath, tool.debianPackage, tool.name);
    addFile(`${TOOLS_DIR}/${tool.name}`, tool.hostPath, 0o755);
    for (const alias of tool.aliases ?? []) symlinks.set(`${TOOLS_DIR}/${alias}`, tool.name);
    for (const lib of sharedLibraries(tool.hostPath)) libraries.add(lib);
  }
  for (const extension of XTABLES_EXTENSIONS) {
    const hostPath = join(XTABLES_DIR, extension);
    requireFile(hostPath, 'iptables', `iptables extension ${extension}`);
    addFile(hostPath, hostPath, 0o644);
    for (const lib of sharedLibraries(hostPath)) libraries.add(lib);
  }
  for (const lib of libraries) addFile(lib, lib, 0o755);
  for (const [index, path] of modulePaths.entries()) {
    addFile(`${MODULES_DIR}/${moduleNames[index]}.ko`, join(kernel.modulesDir, path), 0o644);
  }
  files.set('/init', { data: Buffer.from(initScript(moduleNames)), mode: 0o755 });

  // Directories first (parents before children), then files and links, all in a stable order.
  const dirs = new Set<string>(['/proc', '/sys', '/dev', '/run', '/tmp', '/margay', '/root']);
  for (const path of [...files.keys(), ...symlinks.keys()]) {
    for (let dir = dirname(path); dir !== '/'; dir = dirname(dir)) dirs.add(dir);
  }
  const entries: CpioEntry[] = [
    ...[...dirs].sort().map((path): CpioEntry => ({ kind: 'dir', path })),
    ...[...files.entries()].sort().map(([path, file]): CpioEntry => ({ kind: 'file', path, ...file })),
    ...[...symlinks.entries()]
      .filter(([path]) => !files.has(path))
      .sort()
      .map(([path, target]): CpioEntry => ({ kind: 'symlink', path, target })),
  ];
  const archive = writeCpio(entries);
  const hash = createHash('sha256').update(archive).digest('hex').slice(0, 16);

  const cacheDir = options.cacheDir ?? defaultCacheDir();
  mkdirSync(cacheDir, { recursive: true });
  const path = join(cacheDir, `initramfs-${kernel.version}-${hash}.cpio.gz`);
  if (existsSync(path)) {
    const now = new Date();
    utimesSync(path, now, now); // marks it in use, see pruneCache
    return { path, hash, built: false, modules: moduleNames };
  }
  // Write then rename, so a parallel run never boots a half-written archive.
  const partial = `${path}.${process.pid}.partial`;
  writeFileSync(partial, gzipSync(archive, { level: 6 }));
  renameSync(partial, path);
  pruneCache(cacheDir, path);
  return { path, hash, built: true, modules: moduleNames };
}

const UNUSED_FOR_MS = 7 * 24 * 3600 * 1000;

/** Each change of an input leaves an old archive behind: drop those no run has used for a week. */
function pruneCache(cacheDir: string, keep: string): void {
  for (const name of readdirSync(cacheDir)) {
    const path = join(cacheDir, name);
    if (path === keep || !/^initramfs-.*\.cpio\.gz$/.test(name)) continue;
    try {
      if (Date.now() - statSync(path).mtimeMs > UNUSED_FOR_MS) rmSync(path, { force: true });
    } catch {
      // another run pruned it first
    }
  }
}

/** A tiny second archive holding the per-run script and its markers; the kernel unpacks both. */
export function scriptArchive(script: string, begin: string, end: string): Buffer {
  const env = `MARGAY_BEGIN='${begin}'\nMARGAY_END='${end}'\n`;
  return gzipSync(
    writeCpio([
      { kind: 'dir', path: 'margay' },
      { kind: 'file', path: 'margay/run.env', data: Buffer.from(env), mode: 0o644 },
      { kind: 'file', path: 'margay/script.sh', data: Buffer.from(script), mode: 0o755 },
    ]),
  );
}
