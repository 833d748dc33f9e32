import { writeCpio } from './cpio';

/** Read a newc archive back: [name, mode, data] per entry (the trailer excluded). */
function readCpio(archive: Buffer): Array<{ name: string; mode: number; data: string }> {
  const entries: Array<{ name: string; mode: number; data: string }> = [];
  let offset = 0;
  const align = (n: number) => (n + 3) & ~3;
  for (;;) {
    const magic = archive.toString('ascii', offset, offset + 6);
    if (magic !== '070701') throw new Error(`bad magic ${magic} at ${offset}`);
    const field = (index: number) =>
      Number.parseInt(archive.toString('ascii', offset + 6 + index * 8, offset + 14 + index * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const nameStart = offset + 110;
    const name = archive.toString('utf8', nameStart, nameStart + nameSize - 1);
    const dataStart = align(nameStart + nameSize);
    if (name === 'TRAILER!!!') {
      expect(align(dataStart)).toBe(archive.length);
      return entries;
    }
    entries.push({ name, mode, data: archive.toString('utf8', dataStart, dataStart + size) });
    offset = align(dataStart + size);
  }
}

describe('writeCpio', () => {
  it('writes newc entries the kernel can unpack: dirs, files with their mode, symlinks, then the trailer', () => {
    const archive = writeCpio([
      { kind: 'dir', path: '/bin' },
      { kind: 'file', path: '/bin/hello', data: Buffer.from('odd-length'), mode: 0o755 },
      { kind: 'symlink', path: 'bin/hi', target: 'hello' },
    ]);
    expect(readCpio(archive)).toEqual([
      { name: 'bin', mode: 0o040755, data: '' },
      { name: 'bin/hello', mode: 0o100755, data: 'odd-length' },
      { name: 'bin/hi', mode: 0o120777, data: 'hello' },
    ]);
  });

  it('is reproducible: the same entries give the same bytes', () => {
    const entries = [{ kind: 'file' as const, path: 'a', data: Buffer.from('x') }];
    expect(writeCpio(entries).equals(writeCpio(entries))).toBe(true);
  });

  it('rejects paths that escape or are empty, naming the path', () => {
    expect(() => writeCpio([{ kind: 'dir', path: 'a/../b' }])).toThrow(/invalid archive path 'a\/..\/b'/);
    expect(() => writeCpio([{ kind: 'dir', path: '/' }])).toThrow(/invalid archive path '\/'/);
  });
});
