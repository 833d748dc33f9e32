import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { KINDS } from '../kinds';
import { ipPoolSpec } from '../resources/ippool';
import { cidr, intInRange, ipAddress, oneOf, selector, strictObject } from '../schema/fields';
import { type FieldRow, fieldRows, type Listing } from './fields';
import { main } from './main';
import { REFERENCE_PATH, referenceMarkdown } from './reference';

const REPO_ROOT = join(__dirname, '..', '..', '..', '..');
const listing = (): Listing => ({ owner: 'Test', seen: new Map() });
const row = (rows: FieldRow[], path: string) => {
  const found = rows.find((r) => r.path === path);
  if (!found) throw new Error(`no row ${path} in ${rows.map((r) => r.path).join(', ')}`);
  return found;
};

describe('fieldRows', () => {
  it('gives type, required and default of plain fields', () => {
    const rows = fieldRows(
      strictObject({ name: z.string().min(1), count: z.number().optional(), on: z.boolean().default(true) }),
      'spec',
      listing(),
    );
    expect(rows).toEqual([
      { path: 'spec.name', type: 'string', required: true, accepts: 'not empty' },
      { path: 'spec.count', type: 'number', required: false, accepts: '' },
      { path: 'spec.on', type: 'boolean', required: false, default: 'true', accepts: '' },
    ]);
  });

  it('lists allowed values and the items of lists of objects', () => {
    const rows = fieldRows(
      strictObject({
        mode: oneOf(['A', 'B']).default('A'),
        items: z.array(strictObject({ cidr })).default([]),
      }),
      'spec',
      listing(),
    );
    expect(row(rows, 'spec.mode')).toMatchObject({
      type: 'string',
      default: '"A"',
      accepts: 'one of `A`, `B`',
    });
    expect(row(rows, 'spec.items')).toMatchObject({ type: 'list of objects', default: '[]' });
    expect(row(rows, 'spec.items[].cidr').accepts).toContain('masked CIDR');
  });

  it('finds the range an integer check accepts, and which addresses a parser takes', () => {
    const rows = fieldRows(
      strictObject({ port: intInRange(1, 65535), vni: intInRange(4096, 4096), gateway: ipAddress(6) }),
      '',
      listing(),
    );
    expect(row(rows, 'port')).toMatchObject({ type: 'integer', accepts: '1 to 65535' });
    expect(row(rows, 'vni')).toMatchObject({ type: 'integer', accepts: '4096 to 4096' });
    expect(row(rows, 'gateway').accepts).toBe('an IPv6 address');
  });

  it('lists an object used twice once, and refers to it after', () => {
    const shared = strictObject({ selector });
    const first = listing();
    const rows = fieldRows(strictObject({ from: shared, to: shared }), 'spec', first);
    expect(rows.map((r) => r.path)).toEqual(['spec.from', 'spec.from.selector', 'spec.to']);
    expect(row(rows, 'spec.to').accepts).toBe('the fields of `spec.from`');
    const other = fieldRows(strictObject({ peer: shared }), 'spec', { owner: 'Other', seen: first.seen });
    expect(row(other, 'spec.peer').accepts).toBe('the fields of `spec.from` of Test');
  });

  it('sees through refinements and transforms to the object', () => {
    const paths = fieldRows(ipPoolSpec, 'spec', listing()).map((r) => r.path);
    expect(paths).toEqual(Object.keys(ipPoolSpec.in.shape).map((key) => `spec.${key}`));
  });

  it('refuses a schema that is not an object', () => {
    expect(() => fieldRows(z.string(), 'spec', listing())).toThrow('spec: not an object schema');
  });
});

describe('docs/reference.md', () => {
  it('is what the schemas generate (run scripts/gen-reference after changing them)', () => {
    expect(readFileSync(join(REPO_ROOT, REFERENCE_PATH), 'utf8')).toBe(referenceMarkdown());
  });

  it('has a section for every kind', () => {
    const page = referenceMarkdown();
    for (const { kind } of KINDS) expect(page).toContain(`\n## ${kind}\n`);
    expect(page).toContain(
      '| `spec.ipipMode` | string |  | `"Never"` | one of `Never`, `Always`, `CrossSubnet` |',
    );
  });
});

describe('gen-reference', () => {
  let root = '';
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'margay-reference-'));
    mkdirSync(join(root, 'docs'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes the page, then --check passes', () => {
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(main([], root)).toBe(0);
    } finally {
      stdout.mockRestore();
    }
    expect(readFileSync(join(root, REFERENCE_PATH), 'utf8')).toBe(referenceMarkdown());
    expect(main(['--check'], root)).toBe(0);
  });

  it('--check fails on a stale page, and changes nothing', () => {
    writeFileSync(join(root, REFERENCE_PATH), '# stale\n');
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(main(['--check'], root)).toBe(1);
      expect(stderr).toHaveBeenCalledWith(expect.stringContaining('docs/reference.md is out of date'));
    } finally {
      stderr.mockRestore();
    }
    expect(readFileSync(join(root, REFERENCE_PATH), 'utf8')).toBe('# stale\n');
  });
});
