// docs/reference.md, generated from the resource schemas: one table per kind listing every field.

import { KINDS, type Kind } from '../kinds';
import { BGP_DEFAULTS } from '../resources/bgp-configuration';
import { FELIX_DEFAULTS } from '../resources/felix-configuration';
import { API_VERSION, CALICO_API_VERSION, objectMeta } from '../resources/meta';
import { RESOURCE_SCHEMAS } from '../validate';
import { type FieldRow, fieldRows, type Listing } from './fields';

/** Values used when a field is unset, applied after validation rather than by the schema. */
const FALLBACKS: Partial<Record<Kind, { values: Record<string, unknown>; note: string }>> = {
  FelixConfiguration: {
    values: FELIX_DEFAULTS,
    note:
      'Every field is optional: felix overlays `node.<nodename>` on `default`, and what neither sets ' +
      'takes the fallback shown.',
  },
  BGPConfiguration: {
    values: BGP_DEFAULTS,
    note: 'The fallbacks shown are filled in on the configuration named `default` only.',
  },
};

export const REFERENCE_PATH = 'docs/reference.md';

/** The whole page. */
export function referenceMarkdown(): string {
  const listing: Listing = { owner: 'every kind', seen: new Map() };
  const common = fieldRows(objectMeta, 'metadata', listing);
  const lines = [
    '# Resource reference',
    '',
    '<!-- Generated from the zod schemas of packages/api by scripts/gen-reference: do not edit. -->',
    '',
    'Every kind margay stores and every field of it: its type, whether it must be given, the default',
    'filled in when it is not, and what is accepted. The page is generated from the validation code',
    '(`scripts/gen-reference`) and a test fails when the two disagree. Checks that span several fields',
    "(an IPPool's `blockSize` against its `cidr`, a rule's ports needing a protocol) are not listed:",
    '`margayctl` names them, with the field, when it refuses a resource.',
    '',
    '## Kinds',
    '',
    table(
      ['Kind', 'Scope', 'Names on the command line'],
      KINDS.map((info) => [
        `[${info.kind}](#${info.kind.toLowerCase()})`,
        info.namespaced ? 'namespaced' : 'cluster',
        info.aliases.map(code).join(', '),
      ]),
    ),
    '',
    '## Fields of every kind',
    '',
    `\`apiVersion\` is \`${API_VERSION}\` or \`${CALICO_API_VERSION}\` (stored as \`${API_VERSION}\`), \`kind\` the`,
    'kind, and `spec` the fields listed under each kind (a missing `spec` counts as `{}`). Namespaced kinds',
    'default `metadata.namespace` to `default`; cluster-scoped kinds refuse one.',
    '',
    fieldTable(common),
  ];
  for (const info of KINDS) {
    const fallback = FALLBACKS[info.kind];
    const rows = fieldRows(RESOURCE_SCHEMAS[info.kind], '', { owner: info.kind, seen: listing.seen })
      .filter((row) => row.path.startsWith('spec.'))
      .map((row) => withFallback(row, fallback?.values));
    lines.push('', `## ${info.kind}`, '');
    if (fallback) lines.push(fallback.note, '');
    lines.push(fieldTable(rows));
  }
  return `${lines.join('\n')}\n`;
}

function withFallback(row: FieldRow, values: Record<string, unknown> | undefined): FieldRow {
  const value = values?.[row.path.slice('spec.'.length)];
  if (value === undefined || row.default !== undefined) return row;
  return { ...row, default: `${JSON.stringify(value)} (fallback)` };
}

function fieldTable(rows: readonly FieldRow[]): string {
  return table(
    ['Field', 'Type', 'Required', 'Default', 'Accepts'],
    rows.map((row) => [
      code(row.path),
      row.type,
      row.required ? 'yes' : '',
      row.default === undefined ? '' : formatDefault(row.default),
      row.accepts,
    ]),
  );
}

function formatDefault(text: string): string {
  const fallback = text.endsWith(' (fallback)');
  const value = fallback ? text.slice(0, -' (fallback)'.length) : text;
  return fallback ? `${code(value)} (fallback)` : code(value);
}

function code(text: string): string {
  return `\`${text}\``;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ');
  return [header, header.map(() => '---'), ...rows]
    .map((row) => `| ${row.map(cell).join(' | ')} |`)
    .join('\n');
}
