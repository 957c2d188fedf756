/**
 * A schema's fingerprint: its tables, columns (type, nullability, default), indexes,
 * constraints and triggers, and its views, functions, enum types, sequences, domains and
 * composite types, read from pg_catalog in
 * one query, normalised into a sorted description and hashed. verify compares each tenant's
 * with a reference (a scratch database migrated from zero, or a known-good tenant) and names
 * the differences.
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
  /** pg_get_triggerdef, user triggers only. */
  triggers: NamedDefinition[];
}

export type ObjectKind =
  | 'view'
  | 'materialized view'
  | 'function'
  | 'type'
  | 'extension'
  | 'sequence'
  | 'domain'
  | 'composite type';

/**
 * The kinds a catalog query reads only from CATALOG_VERSION 3 on (the version entry says so):
 * a probe on an older copy of the query reports none, which must not make them "missing".
 */
const VERSION_3_KINDS: ReadonlySet<ObjectKind> = new Set(['sequence', 'domain', 'composite type']);

/** Kinds whose definition is short enough to show whole when it differs. */
const SHORT_DEFINITION_KINDS: ReadonlySet<ObjectKind> = new Set([
  'type',
  'sequence',
  'domain',
  'composite type',
]);

/**
 * The version the catalog query reports of itself, as an entry `{"kind": "catalog", "name":
 * "version", "definition": "3"}`. Queries before 3 carry no such entry. Raise it whenever the
 * query reads a new kind of object, and compare that kind only between catalogs that read it.
 */
export const CATALOG_VERSION = 3;

/**
 * A schema object other than a table: a view, a function or procedure, an enum type, a
 * sequence (not an identity column's, which is the column's), a domain, a composite type; or
 * one of the database's extensions (installed database-wide, often by a migration).
 */
export interface ObjectShape {
  kind: ObjectKind;
  /** Functions are named with their argument types: `audit(integer)`. */
  name: string;
  /**
   * A view's query, a function's md5 (of pg_get_functiondef), an enum's labels, an extension's
   * version; a sequence's type, increment, bounds, start, cache, cycle and owning column; a
   * domain's base type, NOT NULL, default and constraints; a composite type's attributes.
   */
  definition: string;
  /** A materialized view's indexes. */
  indexes: NamedDefinition[];
}

/**
 * Tables sorted by name, with their columns, indexes, constraints and triggers sorted by name;
 * the other objects sorted by kind, then name.
 */
export interface SchemaShape {
  tables: TableShape[];
  objects: ObjectShape[];
}

export interface SchemaFingerprint {
  /** sha256 of the normalised description. */
  hash: string;
  /**
   * `tables`: read by an older copy of the catalog query (a probe task's), which returned
   * tables, columns, indexes and constraints only; `full`: triggers, views, functions and
   * enum types too. Comparing the two compares what both carry (compareSchemas).
   */
  coverage: 'full' | 'tables';
  /**
   * The catalog query's version (CATALOG_VERSION when read by this berth's query; 0 for a copy
   * from before the query said it). Sequences, domains and composite types are compared only
   * between two catalogs of version 3 or later.
   */
  version: number;
  /** Ordinary and partitioned tables (the count verify's table check uses). */
  tables: number;
  shape: SchemaShape;
}

/**
 * A SELECT expression (one json value) describing the schema named by `schemaParam` (e.g.
 * `$1`): one entry per object, in a JSON array.
 *  - Ordinary and partitioned tables, as the probe counts them (no `kind`): columns without
 *    dropped and system ones, indexes, constraints (NOT NULL lives on the column, so only
 *    p/u/f/c/x) and triggers (not the internal ones behind foreign keys).
 *  - `kind` 'view' and 'materialized view' (with its indexes): the view's definition.
 *  - `kind` 'function' (functions and procedures, named with their argument types): the md5
 *    of pg_get_functiondef, so a body that changed is seen without carrying it.
 *  - `kind` 'type': an enum's labels in order.
 *  - `kind` 'extension': every extension of the database (not only the schema's: CREATE
 *    EXTENSION is database-wide), with its version as the definition. plpgsql is always
 *    there, so a catalog with no extension entry was read by an older copy of this query.
 *  - `kind` 'sequence': a sequence's settings (never its current value, which is data) and
 *    the column that owns it (a serial's); an identity column's sequence (pg_depend 'i') is
 *    part of the column and left out.
 *  - `kind` 'domain': its base type, NOT NULL, default and named constraints.
 *  - `kind` 'composite type': a standalone CREATE TYPE … AS (…), its attributes in order.
 *  - `kind` 'catalog', name 'version': CATALOG_VERSION, the query's own version.
 * What an extension created (pg_depend 'e') is the extension's, not the migrations': left
 * out. Every entry has `columns`, `indexes` and `constraints`, so an older reader still
 * accepts the array.
 */
export function catalogJsonSql(schemaParam: string): string {
  // The indexes of relation `c` (a table or a materialized view).
  const indexesOfC = `(SELECT coalesce(json_agg(json_build_object(
                          'name', i.relname,
                          'definition', pg_catalog.pg_get_indexdef(x.indexrelid)) ORDER BY i.relname), '[]'::json)
                          FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
                         WHERE x.indrelid = c.oid)`;
  const functionName = `p.proname || '(' || pg_catalog.pg_get_function_identity_arguments(p.oid) || ')'`;
  const extensionMember = (catalog: string, oid: string) =>
    `EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                   WHERE e.classid = '${catalog}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`;
  return `(SELECT coalesce(json_agg(o.entry ORDER BY o.kind, o.name), '[]'::json) FROM (
     SELECT '' AS kind, c.relname::text AS name, json_build_object(
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
            'indexes', ${indexesOfC},
            'constraints', (SELECT coalesce(json_agg(json_build_object(
                          'name', k.conname,
                          'definition', pg_catalog.pg_get_constraintdef(k.oid)) ORDER BY k.conname), '[]'::json)
                          FROM pg_catalog.pg_constraint k
                         WHERE k.conrelid = c.oid AND k.contype IN ('p', 'u', 'f', 'c', 'x')),
            'triggers', (SELECT coalesce(json_agg(json_build_object(
                          'name', t.tgname,
                          'definition', pg_catalog.pg_get_triggerdef(t.oid)) ORDER BY t.tgname), '[]'::json)
                          FROM pg_catalog.pg_trigger t
                         WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)) AS entry
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schemaParam} AND c.relkind IN ('r', 'p')
     UNION ALL
     SELECT 'view', c.relname::text, json_build_object(
            'kind', CASE c.relkind WHEN 'v' THEN 'view' ELSE 'materialized view' END,
            'name', c.relname,
            'definition', pg_catalog.pg_get_viewdef(c.oid),
            'columns', '[]'::json,
            'indexes', ${indexesOfC},
            'constraints', '[]'::json)
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schemaParam} AND c.relkind IN ('v', 'm')
        AND NOT ${extensionMember('pg_catalog.pg_class', 'c.oid')}
     UNION ALL
     SELECT 'function', ${functionName}, json_build_object(
            'kind', 'function',
            'name', ${functionName},
            'definition', md5(pg_catalog.pg_get_functiondef(p.oid)),
            'columns', '[]'::json, 'indexes', '[]'::json, 'constraints', '[]'::json)
       FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ${schemaParam} AND p.prokind IN ('f', 'p')
        AND NOT ${extensionMember('pg_catalog.pg_proc', 'p.oid')}
     UNION ALL
     SELECT CASE t.typtype WHEN 'e' THEN 'type' WHEN 'd' THEN 'domain' ELSE 'composite type' END,
            t.typname::text, json_build_object(
            'kind', CASE t.typtype WHEN 'e' THEN 'type' WHEN 'd' THEN 'domain' ELSE 'composite type' END,
            'name', t.typname,
            'definition', CASE t.typtype
              WHEN 'e' THEN 'enum (' || (SELECT string_agg(quote_literal(l.enumlabel), ', ' ORDER BY l.enumsortorder)
                                           FROM pg_catalog.pg_enum l WHERE l.enumtypid = t.oid) || ')'
              WHEN 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod)
                            || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
                            || coalesce(' default ' || t.typdefault, '')
                            || coalesce((SELECT string_agg(' constraint ' || k.conname || ' ' || pg_catalog.pg_get_constraintdef(k.oid), '' ORDER BY k.conname)
                                           FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid), '')
              ELSE '(' || coalesce((SELECT string_agg(quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                                      FROM pg_catalog.pg_attribute a
                                     WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped), '') || ')'
            END,
            'columns', '[]'::json, 'indexes', '[]'::json, 'constraints', '[]'::json)
       FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = ${schemaParam}
        AND (t.typtype IN ('e', 'd')
             OR (t.typtype = 'c' AND (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid) = 'c'))
        AND NOT ${extensionMember('pg_catalog.pg_type', 't.oid')}
     UNION ALL
     SELECT 'extension', e.extname::text, json_build_object(
            'kind', 'extension',
            'name', e.extname,
            'definition', e.extversion,
            'columns', '[]'::json, 'indexes', '[]'::json, 'constraints', '[]'::json)
       FROM pg_catalog.pg_extension e
     UNION ALL
     SELECT 'sequence', c.relname::text, json_build_object(
            'kind', 'sequence',
            'name', c.relname,
            'definition', pg_catalog.format_type(s.seqtypid, NULL)
                          || ' increment ' || s.seqincrement || ' minvalue ' || s.seqmin
                          || ' maxvalue ' || s.seqmax || ' start ' || s.seqstart || ' cache ' || s.seqcache
                          || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END
                          || coalesce((SELECT ' owned by ' || t.relname || '.' || a.attname
                                         FROM pg_catalog.pg_depend d
                                         JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
                                         JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                                        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
                                          AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype = 'a'), ''),
            'columns', '[]'::json, 'indexes', '[]'::json, 'constraints', '[]'::json)
       FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
      WHERE n.nspname = ${schemaParam} AND c.relkind = 'S'
        AND NOT ${extensionMember('pg_catalog.pg_class', 'c.oid')}
        AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                         WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')
     UNION ALL
     SELECT 'catalog', 'version', json_build_object(
            'kind', 'catalog', 'name', 'version', 'definition', '${CATALOG_VERSION}',
            'columns', '[]'::json, 'indexes', '[]'::json, 'constraints', '[]'::json)
   ) o)`;
}

/** The catalog query on its own, for a probe task: `$1` is the schema (database.schema). */
export const CATALOG_SQL = `SELECT ${catalogJsonSql('$1')} AS schema`;

const namedDefinitions = z.array(z.object({ name: z.string(), definition: z.string() }));

const catalogSchema = z.array(
  z.object({
    /** Absent for a table (the only entries an older catalog query returned). */
    kind: z
      .enum([
        'view',
        'materialized view',
        'function',
        'type',
        'extension',
        'sequence',
        'domain',
        'composite type',
        'catalog',
      ])
      .optional(),
    definition: z.string().optional(),
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
    indexes: namedDefinitions,
    constraints: namedDefinitions,
    triggers: namedDefinitions.optional(),
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

const byKindAndName = (a: ObjectShape, b: ObjectShape) =>
  a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : byName(a, b);

const namedSorted = (list: readonly NamedDefinition[]) =>
  list.map((x) => ({ name: x.name, definition: x.definition })).sort(byName);

const indexesSorted = (list: readonly NamedDefinition[]) =>
  list
    .map((i) => ({ name: i.name, definition: normaliseIndexDefinition(i.definition) }))
    .sort(byName);

export function normaliseCatalog(catalog: CatalogTables): SchemaShape {
  const tables: TableShape[] = [];
  const objects: ObjectShape[] = [];
  for (const entry of catalog) {
    // The query's version says what it read (catalogVersion); it is not part of the schema.
    if (entry.kind === 'catalog') continue;
    if (entry.kind === undefined) {
      tables.push({
        name: entry.name,
        columns: entry.columns
          .map((c) => ({
            name: c.name,
            type: c.type,
            nullable: c.nullable,
            default: columnDefault(c),
          }))
          .sort(byName),
        indexes: indexesSorted(entry.indexes),
        constraints: namedSorted(entry.constraints),
        triggers: namedSorted(entry.triggers ?? []),
      });
    } else {
      objects.push({
        kind: entry.kind,
        name: entry.name,
        definition: entry.definition ?? '',
        indexes: indexesSorted(entry.indexes),
      });
    }
  }
  return { tables: tables.sort(byName), objects: objects.sort(byKindAndName) };
}

export function fingerprintOf(catalog: CatalogTables): SchemaFingerprint {
  const shape = normaliseCatalog(catalog);
  // Built in a fixed key order above, so the JSON text is canonical.
  const hash = createHash('sha256').update(JSON.stringify(shape)).digest('hex');
  return {
    hash,
    tables: shape.tables.length,
    shape,
    coverage: catalogCoverage(catalog),
    version: catalogVersion(catalog),
  };
}

/** The version entry's number; 0 when there is none (a copy of the query from before 3). */
function catalogVersion(catalog: CatalogTables): number {
  const entry = catalog.find((e) => e.kind === 'catalog' && e.name === 'version');
  const version = Number(entry?.definition);
  return Number.isInteger(version) && version > 0 ? version : 0;
}

/**
 * The current query gives every table a `triggers` list (empty when it has none); the older
 * one gave tables only, without it. A catalog with no tables at all says nothing either way:
 * it is taken as full, so an empty schema still differs from a reference with views.
 */
function catalogCoverage(catalog: CatalogTables): 'full' | 'tables' {
  const tables = catalog.filter((entry) => entry.kind === undefined);
  return tables.length > 0 && tables.length === catalog.length && tables.every((t) => !t.triggers)
    ? 'tables'
    : 'full';
}

const hasExtensions = (shape: SchemaShape) => shape.objects.some((o) => o.kind === 'extension');

/** A shape without what only a version-3 query reads: sequences, domains, composite types. */
const withoutVersion3Kinds = (shape: SchemaShape): SchemaShape => ({
  ...shape,
  objects: shape.objects.filter((o) => !VERSION_3_KINDS.has(o.kind)),
});

const withoutExtensions = (shape: SchemaShape): SchemaShape => ({
  ...shape,
  objects: shape.objects.filter((o) => o.kind !== 'extension'),
});

/** What an older catalog query could see of a shape: its tables, without their triggers. */
function tablesOnly(shape: SchemaShape): SchemaShape {
  return { tables: shape.tables.map((t) => ({ ...t, triggers: [] })), objects: [] };
}

/**
 * How much of two schemas was compared: `full`; `before-version-3` when either was read by a
 * copy of the catalog query from before version 3 (no sequences, domains or composite types);
 * `tables` when either was read by the oldest one (tables, columns, indexes and constraints).
 */
export type SchemaCoverage = 'full' | 'before-version-3' | 'tables';

/**
 * `tenant` against `reference`: the differences (diffSchemas), and how much was compared
 * (SchemaCoverage). An older probe must not turn every trigger, view, function or sequence of
 * the reference into a "missing" one, and verify says what it did not compare.
 */
export function compareSchemas(
  reference: SchemaFingerprint,
  tenant: SchemaFingerprint,
): { differences: string[]; coverage: SchemaCoverage } {
  if (reference.coverage === 'full' && tenant.coverage === 'full') {
    // An older catalog query (a probe task's copy) read no extensions, and none before
    // version 3 read sequences, domains or composite types: compare each only when both
    // sides read it, so that an older probe is not every one of them "missing".
    const version3 = reference.version >= 3 && tenant.version >= 3;
    const coverage = version3 ? 'full' : 'before-version-3';
    if (reference.hash === tenant.hash) return { differences: [], coverage };
    const both = hasExtensions(reference.shape) && hasExtensions(tenant.shape);
    const comparable = (shape: SchemaShape) => {
      const read = version3 ? shape : withoutVersion3Kinds(shape);
      return both ? read : withoutExtensions(read);
    };
    return {
      differences: diffSchemas(comparable(reference.shape), comparable(tenant.shape)),
      coverage,
    };
  }
  return {
    differences: diffSchemas(tablesOnly(reference.shape), tablesOnly(tenant.shape)),
    coverage: 'tables',
  };
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
  return [...differences, ...diffObjects(reference.objects, tenant.objects)];
}

/**
 * Views, functions, types, sequences, domains and extensions, by kind and name: `missing view
 * active_orders`, `sequence invoice_no: bigint increment 1 …, expected integer increment 1 …`.
 */
function diffObjects(want: readonly ObjectShape[], have: readonly ObjectShape[]): string[] {
  const out: string[] = [];
  const key = (o: ObjectShape) => `${o.kind} ${o.name}`;
  const w = new Map(want.map((o) => [key(o), o]));
  const h = new Map(have.map((o) => [key(o), o]));
  for (const name of [...new Set([...w.keys(), ...h.keys()])].sort()) {
    const expected = w.get(name);
    const actual = h.get(name);
    if (!actual) out.push(`missing ${name}`);
    else if (!expected) out.push(`extra ${name}`);
    else {
      if (actual.definition !== expected.definition)
        // A view's query or a function's body is long: say that it differs. An enum's
        // labels, a sequence's settings, a domain or a composite type are short: say how.
        out.push(
          actual.kind === 'extension'
            ? `${name}: version ${actual.definition}, expected ${expected.definition}`
            : SHORT_DEFINITION_KINDS.has(actual.kind)
              ? `${name}: ${actual.definition}, expected ${expected.definition}`
              : `${name}: definition differs`,
        );
      out.push(...diffIndexes(expected.indexes, actual.indexes));
    }
  }
  return out;
}

/**
 * Named definitions compared by name: `missing index x`, `extra constraint orders.y`,
 * `trigger orders.z: DEFINITION, expected DEFINITION`. `qualify` names one in words.
 */
function diffDefinitions(
  what: string,
  want: readonly NamedDefinition[],
  have: readonly NamedDefinition[],
  qualify: (name: string) => string = (name) => name,
): string[] {
  const out: string[] = [];
  for (const [key, w, h] of pairs(want, have)) {
    const named = `${what} ${qualify(key)}`;
    if (!h) out.push(`missing ${named}`);
    else if (!w) out.push(`extra ${named}`);
    else if (h.definition !== w.definition)
      out.push(`${named}: ${h.definition}, expected ${w.definition}`);
  }
  return out;
}

// Index names are unique in a schema: the bare name says which.
const diffIndexes = (want: readonly NamedDefinition[], have: readonly NamedDefinition[]) =>
  diffDefinitions('index', want, have);

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
  out.push(...diffIndexes(want.indexes, have.indexes));
  // Constraint and trigger names are unique per table only.
  const inTable = (name: string) => `${table}.${name}`;
  out.push(...diffDefinitions('constraint', want.constraints, have.constraints, inTable));
  out.push(...diffDefinitions('trigger', want.triggers, have.triggers, inTable));
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
