// Walks a zod schema into the rows of a field reference: every field's path, type, default and
// what it accepts. Read from zod 4's definitions (`_zod.def`), so the reference cannot drift from
// the validation. Checks written as code (superRefine, transforms that parse) are described by
// name for the shared building blocks, and otherwise by asking the schema itself: which integers
// it accepts, which kinds of IP address.

import type { z } from 'zod';
import {
  annotations,
  asNumber,
  cidr,
  duration,
  labels,
  macAddress,
  namespaceName,
  net,
  PROTOCOL_NAMES,
  port,
  protocol,
  resourceName,
  selector,
} from '../schema/fields';

export interface FieldRow {
  /** Dotted path from the schema's root; `[]` marks list items and `<key>` map values. */
  readonly path: string;
  readonly type: string;
  readonly required: boolean;
  /** The default as JSON, when the schema fills one in. */
  readonly default?: string;
  /** What is accepted beyond the type; empty when the type says it all. */
  readonly accepts: string;
}

/** Building blocks of ../schema/fields, by identity: their checks are code, so they are named here. */
const NAMED: ReadonlyMap<unknown, { type: string; accepts: string }> = new Map<
  unknown,
  { type: string; accepts: string }
>([
  [
    cidr,
    { type: 'string', accepts: 'a masked CIDR (host bits zero), IPv4 or IPv6; stored in canonical form' },
  ],
  [net, { type: 'string', accepts: 'a masked CIDR, or a bare address meaning /32 or /128' }],
  [selector, { type: 'string', accepts: 'a selector expression, e.g. `role == "db" && has(tier)`' }],
  [port, { type: 'integer or string', accepts: 'a port 1-65535, a range `"from:to"`, or a named port' }],
  [
    protocol,
    { type: 'string or integer', accepts: `${PROTOCOL_NAMES.join(', ')} (any case) or a number 1-255` },
  ],
  [asNumber, { type: 'integer or string', accepts: 'an AS number 1-4294967295, or asdot `"1.10"`' }],
  [macAddress, { type: 'string', accepts: 'a MAC address, e.g. `52:54:00:12:34:56`' }],
  [duration, { type: 'string', accepts: 'a duration: `90s`, `1m30s`, `500ms`, `0`' }],
  [
    resourceName,
    { type: 'string', accepts: 'a DNS subdomain: lower-case alphanumerics, `-` and `.`, at most 253' },
  ],
  [namespaceName, { type: 'string', accepts: 'a DNS label: lower-case alphanumerics and `-`, at most 63' }],
  [labels, { type: 'map of string', accepts: 'Kubernetes label keys and values' }],
  [annotations, { type: 'map of string', accepts: 'Kubernetes annotation keys' }],
]);

type Schema = z.core.$ZodType;
type Def = z.core.$ZodTypeDef & Record<string, unknown>;

function defOf(schema: Schema): Def {
  return schema._zod.def as Def;
}

/** Where each object schema was listed first, so one used in several places is listed once. */
export interface Listing {
  /** Whose fields are being listed now, e.g. a kind; named in references from elsewhere. */
  readonly owner: string;
  readonly seen: Map<Schema, { owner: string; path: string }>;
}

/** The rows of an object schema's fields, paths under `prefix`. */
export function fieldRows(schema: Schema, prefix: string, listing: Listing): FieldRow[] {
  const object = objectOf(schema);
  if (!object) throw new Error(`${prefix || 'schema'}: not an object schema`);
  listing.seen.set(object, { owner: listing.owner, path: prefix });
  const rows: FieldRow[] = [];
  for (const [name, field] of Object.entries((defOf(object)['shape'] ?? {}) as Record<string, Schema>)) {
    rows.push(...describeField(prefix === '' ? name : `${prefix}.${name}`, field, listing));
  }
  return rows;
}

function describeField(path: string, field: Schema, listing: Listing): FieldRow[] {
  let schema = field;
  let required = true;
  let fallback: string | undefined;
  // Optional and default wrap the value's schema; unwrap them first.
  for (;;) {
    const def = defOf(schema);
    if (def.type === 'optional') required = false;
    else if (def.type === 'default' || def.type === 'prefault') {
      required = false;
      fallback ??= JSON.stringify(def['defaultValue']);
    } else break;
    schema = def['innerType'] as Schema;
  }
  const value = describeValue(schema);
  const row: FieldRow = {
    path,
    type: value.type,
    required,
    ...(fallback !== undefined && { default: fallback }),
    accepts: value.accepts,
  };
  const nested = value.item && objectOf(value.item);
  if (!nested || value.item === undefined) return [row];
  const earlier = listing.seen.get(nested);
  if (earlier !== undefined) {
    const where = earlier.owner === listing.owner ? '' : ` of ${earlier.owner}`;
    return [{ ...row, accepts: joined(row.accepts, `the fields of \`${earlier.path}\`${where}`) }];
  }
  return [row, ...fieldRows(value.item, `${path}${value.suffix}`, listing)];
}

interface ValueDescription {
  type: string;
  accepts: string;
  /** An object inside (the value itself, a list's items or a map's values), listed below the row. */
  item?: Schema;
  suffix?: string;
}

function describeValue(schema: Schema): ValueDescription {
  const named = NAMED.get(schema);
  if (named) return { ...named };
  const def = defOf(schema);
  switch (def.type) {
    case 'string':
      return { type: 'string', accepts: joined(stringChecks(def), customString(schema)) };
    case 'number':
      return hasCustomCheck(def) ? integerRange(schema) : { type: 'number', accepts: '' };
    case 'boolean':
      return { type: 'boolean', accepts: '' };
    case 'enum':
      return { type: 'string', accepts: `one of ${values(Object.values(def['entries'] as object))}` };
    case 'literal':
      return {
        type: literalType(def['values'] as unknown[]),
        accepts: `${values(def['values'] as unknown[])}`,
      };
    case 'object':
      return { type: 'object', accepts: '', item: schema, suffix: '' };
    case 'array': {
      const element = describeValue(def['element'] as Schema);
      const isObject = element.item !== undefined;
      return {
        type: isObject ? 'list of objects' : `list of ${element.type}`,
        accepts: isObject ? '' : element.accepts === '' ? '' : `each: ${element.accepts}`,
        ...(isObject && { item: element.item, suffix: '[]' }),
      };
    }
    case 'record': {
      const valueType = describeValue(def['valueType'] as Schema);
      return { type: `map of ${valueType.type}`, accepts: valueType.accepts };
    }
    case 'union': {
      const options = (def['options'] as Schema[]).map(describeValue);
      return {
        type: options.map((o) => o.type).join(' or '),
        accepts: joined(...options.map((o) => o.accepts)),
      };
    }
    case 'pipe': {
      // A transform after the value (parsing, defaults): what is accepted is the input side,
      // narrowed by the transform's own checks. A transform before it (preprocess): the output side.
      const input = def['in'] as Schema;
      const output = def['out'] as Schema;
      if (defOf(output).type !== 'transform') return describeValue(output);
      const described = describeValue(input);
      return described.type === 'string' && described.accepts === ''
        ? { ...described, accepts: customString(schema) }
        : described;
    }
    default:
      return { type: def.type, accepts: '' };
  }
}

/** The object a schema validates, through refinements, transforms and preprocessing. */
function objectOf(schema: Schema): Schema | undefined {
  const def = defOf(schema);
  if (def.type === 'object') return schema;
  if (def.type === 'pipe') {
    const output = def['out'] as Schema;
    return objectOf(defOf(output).type === 'transform' ? (def['in'] as Schema) : output);
  }
  return undefined;
}

function hasCustomCheck(def: Def): boolean {
  return (def.checks ?? []).some((check) => check._zod.def.check === 'custom');
}

function stringChecks(def: Def): string {
  const parts = (def.checks ?? []).flatMap((check) => {
    const checkDef = check._zod.def as { check: string; minimum?: number; maximum?: number };
    if (checkDef.check === 'min_length')
      return checkDef.minimum === 1 ? ['not empty'] : [`at least ${checkDef.minimum} characters`];
    if (checkDef.check === 'max_length') return [`at most ${checkDef.maximum} characters`];
    return [];
  });
  return parts.join(', ');
}

const accepts = (schema: Schema, value: unknown) => (schema as z.ZodType).safeParse(value).success;

/** A string checked by code: say which kinds of IP address it takes, or that a rule applies. */
function customString(schema: Schema): string {
  const def = defOf(schema);
  if (def.type === 'string' && !hasCustomCheck(def)) return '';
  const samples = {
    v4: accepts(schema, '192.0.2.1'),
    v4Prefix: accepts(schema, '192.0.2.1/24'),
    v6: accepts(schema, '2001:db8::1'),
    v6Prefix: accepts(schema, '2001:db8::1/64'),
    v4Port: accepts(schema, '192.0.2.1:179'),
    text: accepts(schema, 'x'),
  };
  if (samples.text) return 'checked by a rule of its own (see the error message)';
  const versions = [samples.v4 && 'IPv4', samples.v6 && 'IPv6'].filter(Boolean).join(' or ');
  if (versions === '') return 'checked by a rule of its own (see the error message)';
  const prefix = samples.v4Prefix || samples.v6Prefix ? ', optionally with /prefix-length' : '';
  const port = samples.v4Port ? ', optionally with a port (`192.0.2.1:179`, `[2001:db8::1]:179`)' : '';
  return `an ${versions} address${prefix}${port}`;
}

/**
 * A number checked by code (intInRange): find the integers it accepts. The search starts from a
 * value it accepts: one its error message mentions, or a common one; the probes decide.
 */
function integerRange(schema: Schema): ValueDescription {
  const refusal = (schema as z.ZodType).safeParse(0.5).error?.issues[0]?.message ?? '';
  const mentioned = [...refusal.matchAll(/-?\d+/g)].map((match) => Number(match[0]));
  const seed = [...mentioned, 1, 0, 65535, 2 ** 31 - 1].find((n) => accepts(schema, n));
  if (seed === undefined)
    return { type: 'number', accepts: 'checked by a rule of its own (see the error message)' };
  const edge = (inside: number, outside: number) => {
    // Binary search for the last accepted integer between an accepted and a refused one.
    let [good, bad] = [inside, outside];
    while (Math.abs(bad - good) > 1) {
      const middle = Math.trunc((good + bad) / 2);
      if (accepts(schema, middle)) good = middle;
      else bad = middle;
    }
    return good;
  };
  const min = edge(seed, -(2 ** 53));
  const max = edge(seed, 2 ** 53);
  const integer = !accepts(schema, min + 0.5) || min === max;
  return { type: integer ? 'integer' : 'number', accepts: `${min} to ${max}` };
}

function literalType(literals: readonly unknown[]): string {
  return [
    ...new Set(literals.map((v) => (typeof v === 'number' && Number.isInteger(v) ? 'integer' : typeof v))),
  ].join(' or ');
}

function values(list: readonly unknown[]): string {
  return list.map((v) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``).join(', ');
}

function joined(...parts: string[]): string {
  return parts.filter((part) => part !== '').join('; ');
}
