#!/usr/bin/env node
// gen-reference: writes docs/reference.md from the resource schemas (or, with --check, fails when
// the committed page differs from what the schemas say). Run through scripts/gen-reference.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REFERENCE_PATH, referenceMarkdown } from './reference';

export function main(argv: readonly string[], root: string): number {
  const file = join(root, REFERENCE_PATH);
  const generated = referenceMarkdown();
  if (argv.includes('--check')) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      // missing counts as different
    }
    if (committed === generated) return 0;
    process.stderr.write(`${REFERENCE_PATH} is out of date: run scripts/gen-reference\n`);
    return 1;
  }
  if (argv.length > 0) {
    process.stderr.write('usage: gen-reference [--check]\n');
    return 2;
  }
  writeFileSync(file, generated);
  process.stdout.write(`wrote ${REFERENCE_PATH}\n`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2), join(__dirname, '..', '..', '..', '..'));
}
