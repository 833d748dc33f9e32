/**
 * A writer for the "newc" cpio format, the one the Linux kernel unpacks as an initramfs. Written
 * here (rather than shelling out to cpio) so building an initramfs needs no extra tool and the
 * archive is byte-for-byte reproducible: fixed mtimes, owners and inode numbers.
 */

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; data: Buffer; mode?: number }
  | { kind: 'symlink'; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function header(name: string, mode: number, size: number, ino: number): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [
    '070701',
    hex8(ino),
    hex8(mode),
    hex8(0), // uid
    hex8(0), // gid
    hex8(1), // nlink
    hex8(0), // mtime: fixed, so equal inputs give equal archives
    hex8(size),
    hex8(0), // devmajor
    hex8(0), // devminor
    hex8(0), // rdevmajor
    hex8(0), // rdevminor
    hex8(nameBytes.length),
    hex8(0), // check
  ].join('');
  const head = Buffer.concat([Buffer.from(fields, 'ascii'), nameBytes]);
  return Buffer.concat([head, pad4(head.length)]);
}

function normalise(path: string): string {
  const trimmed = path.replace(/^\/+/, '');
  if (trimmed === '' || trimmed.split('/').some((part) => part === '..' || part === '')) {
    throw new Error(`cpio: invalid archive path '${path}' (want a/b/c, no '..' or empty parts)`);
  }
  return trimmed;
}

/** The archive for `entries`, in order (parents must come before their children). */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const entry of entries) {
    const name = normalise(entry.path);
    let mode: number;
    let data: Buffer;
    if (entry.kind === 'dir') {
      mode = S_IFDIR | (entry.mode ?? 0o755);
      data = Buffer.alloc(0);
    } else if (entry.kind === 'file') {
      mode = S_IFREG | (entry.mode ?? 0o644);
      data = entry.data;
    } else {
      mode = S_IFLNK | 0o777;
      data = Buffer.from(entry.target, 'utf8');
    }
    parts.push(header(name, mode, data.length, ino++), data, pad4(data.length));
  }
  parts.push(header('TRAILER!!!', 0, 0, 0));
  return Buffer.concat(parts);
}
