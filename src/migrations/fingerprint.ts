/**
 * A schema's fingerprint: its tables, columns (type, nullability, default), indexes and
 * constraints, read from pg_catalog in one query, normalised into a sorted description and
 * hashed. verify compares each tenant's with a reference (a scratch database migrated from
 * zero, or a known-good tenant) and names the differences.
 *
 * Only the structure is read, never rows: the migration tool's history table is a table like
 * any other (its rows, the applied migrations, are drift's business: drift.ts).
 *
 * The catalog query returns JSON (the "catalog" shape below), so a probe task written in any
 * language can run the same SQL and print its result (fleet/probe-protocol.ts); berth
 * normalises and hashes it here, the same way for every source.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export interface ColumnShape {
  name: string;
  /** format_type(): `integer`, `numeric(10,2)`, `character varying(255)`. */
  type: string;
  nullable: boolean;
  /** The default expression, an identity or a generated expression; null when none. */
  default: string | null;
}

export interface NamedDefinition {
  name: string;
  /** Indexes: pg_get_indexdef without the CREATE … ON table head; constraints: pg_get_constraintdef. */
  definition: string;
}

export interface TableShape {
  name: string;
  columns: ColumnShape[];
  indexes: NamedDefinition[];
  constraints: NamedDefinition[];
}

/** Tables sorted by name; columns, indexes and constraints sorted by name within each. */
export interface SchemaShape {
  tables: TableShape[];
}

export interface SchemaFingerprint {
  /** sha256 of the normalised description. */
  hash: string;
  /** Ordinary and partitioned tables (the count verify's table check uses). */
  tables: number;
  shape: SchemaShape;
}

/**
 * A SELECT expression (one json value) describing the schema named by `schemaParam` (e.g.
 * `$1`). Ordinary and partitioned tables, as the probe counts them; dropped columns and
 * system columns left out; NOT NULL lives on the column, so only p/u/f/c/x constraints.
 */
export function catalogJsonSql(schemaParam: string): string {
  return `(SELECT coalesce(json_agg(json_build_object(
            'name', c.relname,
            'columns', (SELECT coalesce(json_agg(json_build_object(
                          'name', a.attname,
                          'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
                          'nullable', NOT a.attnotnull,
                          'default', pg_catalog.pg_get_expr(d.adbin, d.adrelid),
                          'identity', a.attidentity,
                          'generated', a.attgenerated) ORDER BY a.attname), '[]'::json)
                          FROM pg_catalog.pg_attribute a
                          LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
            'indexes', (SELECT coalesce(json_agg(json_build_object(
                          'name', i.relname,
                          'definition', pg_catalog.pg_get_indexdef(x.indexrelid)) ORDER BY i.relname), '[]'::json)
                          FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
                         WHERE x.indrelid = c.oid),
            'constraints', (SELECT coalesce(json_agg(json_build_object(
                          'name', k.conname,
                          'definition', pg_catalog.pg_get_constraintdef(k.oid)) ORDER BY k.conname), '[]'::json)
                          FROM pg_catalog.pg_constraint k
                         WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u', 'f', 'c', 'x'))
          ) ORDER BY c.relname), '[]'::json)
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schemaParam} AND c.relkind IN ('r', 'p'))`;
}

/** The catalog query on its own, for a probe task: `$1` is the schema (database.schema). */
export const CATALOG_SQL = `SELECT ${catalogJsonSql('$1')} AS schema`;

const catalogSchema = z.array(
  z.object({
    name: z.string(),
    columns: z.array(
      z.object({
        name: z.string(),
        type: z.string(),
        nullable: z.boolean(),
        default: z.string().nullable().optional(),
        identity: z.string().optional(),
        generated: z.string().optional(),
      }),
    ),
    indexes: z.array(z.object({ name: z.string(), definition: z.string() })),
    constraints: z.array(z.object({ name: z.string(), definition: z.string() })),
  }),
);

/** What the catalog query returns (also what a probe line's `schema` carries). */
export type CatalogTables = z.infer<typeof catalogSchema>;

/** A catalog query result, checked; undefined when it is not one (a broken probe). */
export function parseCatalog(value: unknown): CatalogTables | undefined {
  const parsed = catalogSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

const IDENT = '(?:"(?:[^"]|"")*"|[^\\s".]+)';
const INDEX_HEAD = new RegExp(
  `^CREATE (UNIQUE )?INDEX ${IDENT} ON (?:ONLY )?(?:${IDENT}\\.)?${IDENT} `,
);

/**
 * `CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)` → `UNIQUE USING btree
 * (id)`: the index's name and table are compared as keys, and the schema qualifier depends on
 * the reading session's search_path, not on the index.
 */
export function normaliseIndexDefinition(definition: string): string {
  return definition.replace(INDEX_HEAD, (_head, unique: string | undefined) =>
    unique ? 'UNIQUE ' : '',
  );
}

function columnDefault(column: CatalogTables[number]['columns'][number]): string | null {
  if (column.identity === 'a') return 'generated always as identity';
  if (column.identity === 'd') return 'generated by default as identity';
  const expression = column.default ?? null;
  if (column.generated === 's' && expression !== null)
    return `generated always as (${expression}) stored`;
  return expression;
}

const byName = <T extends { name: string }>(a: T, b: T) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

export function normaliseCatalog(catalog: CatalogTables): SchemaShape {
  return {
    tables: catalog
      .map((t): TableShape => ({
        name: t.name,
        columns: t.columns
          .map((c) => ({
            name: c.name,
            type: c.type,
            nullable: c.nullable,
            default: columnDefault(c),
          }))
          .sort(byName),
        indexes: t.indexes
          .map((i) => ({ name: i.name, definition: normaliseIndexDefinition(i.definition) }))
          .sort(byName),
        constraints: t.constraints
          .map((k) => ({ name: k.name, definition: k.definition }))
          .sort(byName),
      }))
      .sort(byName),
  };
}

export function fingerprintOf(catalog: CatalogTables): SchemaFingerprint {
  const shape = normaliseCatalog(catalog);
  // Built in a fixed key order above, so the JSON text is canonical.
  const hash = createHash('sha256').update(JSON.stringify(shape)).digest('hex');
  return { hash, tables: shape.tables.length, shape };
}

/** The short form people read: the first 12 hex digits. */
export function shortHash(fingerprint: Pick<SchemaFingerprint, 'hash'>): string {
  return fingerprint.hash.slice(0, 12);
}

const describeDefault = (value: string | null) => (value === null ? 'no default' : value);
const describeNull = (nullable: boolean) => (nullable ? 'nullable' : 'not null');

/**
 * What differs in `tenant` from `reference`, in words, e.g. `extra column orders.note`,
 * `missing index orders_created_idx`, `column orders.total: type numeric(10,2), expected
 * integer`. Sorted by table; empty when the two are the same. Pure.
 */
export function diffSchemas(reference: SchemaShape, tenant: SchemaShape): string[] {
  const differences: string[] = [];
  const expected = new Map(reference.tables.map((t) => [t.name, t]));
  const actual = new Map(tenant.tables.map((t) => [t.name, t]));
  const names = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  for (const name of names) {
    const want = expected.get(name);
    const have = actual.get(name);
    if (!have) differences.push(`missing table ${name}`);
    else if (!want) differences.push(`extra table ${name}`);
    else differences.push(...diffTable(want, have));
  }
  return differences;
}

function diffTable(want: TableShape, have: TableShape): string[] {
  const out: string[] = [];
  const table = want.name;
  for (const [key, w, h] of pairs(want.columns, have.columns)) {
    const column = `${table}.${key}`;
    if (!h) out.push(`missing column ${column}`);
    else if (!w) out.push(`extra column ${column}`);
    else {
      if (h.type !== w.type) out.push(`column ${column}: type ${h.type}, expected ${w.type}`);
      if (h.nullable !== w.nullable)
        out.push(
          `column ${column}: ${describeNull(h.nullable)}, expected ${describeNull(w.nullable)}`,
        );
      if (h.default !== w.default)
        out.push(
          `column ${column}: ${describeDefault(h.default)}, expected ${describeDefault(w.default)}`,
        );
    }
  }
  // Index names are unique in a schema: the bare name says which.
  for (const [key, w, h] of pairs(want.indexes, have.indexes)) {
    if (!h) out.push(`missing index ${key}`);
    else if (!w) out.push(`extra index ${key}`);
    else if (h.definition !== w.definition)
      out.push(`index ${key}: ${h.definition}, expected ${w.definition}`);
  }
  // Constraint names are unique per table only.
  for (const [key, w, h] of pairs(want.constraints, have.constraints)) {
    const constraint = `${table}.${key}`;
    if (!h) out.push(`missing constraint ${constraint}`);
    else if (!w) out.push(`extra constraint ${constraint}`);
    else if (h.definition !== w.definition)
      out.push(`constraint ${constraint}: ${h.definition}, expected ${w.definition}`);
  }
  return out;
}

/** Both lists joined on name, in name order: [name, in reference, in tenant]. */
function pairs<T extends { name: string }>(
  want: readonly T[],
  have: readonly T[],
): [string, T | undefined, T | undefined][] {
  const w = new Map(want.map((x) => [x.name, x]));
  const h = new Map(have.map((x) => [x.name, x]));
  return [...new Set([...w.keys(), ...h.keys()])]
    .sort()
    .map((name) => [name, w.get(name), h.get(name)]);
}
