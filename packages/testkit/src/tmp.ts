import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh temporary directory; remove it with `removeTempDir` (tests: in afterAll/finally). */
export function makeTempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `margay-${label}-`));
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
