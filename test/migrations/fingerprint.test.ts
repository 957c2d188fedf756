/** The schema fingerprint: normalisation, the hash, and the differences in words. */
import { describe, expect, it } from 'vitest';
import {
  CATALOG_SQL,
  compareSchemas,
  diffSchemas,
  fingerprintOf,
  normaliseIndexDefinition,
  parseCatalog,
  type CatalogTables,
  type SchemaShape,
} from '../../src/migrations/fingerprint.js';

const orders = (): CatalogTables[number] => ({
  name: 'orders',
  columns: [
    { name: 'id', type: 'integer', nullable: false, default: "nextval('orders_id_seq'::regclass)" },
    { name: 'total', type: 'integer', nullable: false, default: null },
    { name: 'created_at', type: 'timestamp with time zone', nullable: true, default: 'now()' },
  ],
  indexes: [
    {
      name: 'orders_pkey',
      definition: 'CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)',
    },
    {
      name: 'orders_created_idx',
      definition: 'CREATE INDEX orders_created_idx ON public.orders USING btree (created_at)',
    },
  ],
  constraints: [
    { name: 'orders_pkey', definition: 'PRIMARY KEY (id)' },
    { name: 'orders_total_check', definition: 'CHECK ((total >= 0))' },
  ],
  triggers: [
    {
      name: 'orders_audit',
      definition:
        'CREATE TRIGGER orders_audit AFTER INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION audit()',
    },
  ],
});

const users = (): CatalogTables[number] => ({
  name: 'users',
  columns: [{ name: 'id', type: 'bigint', nullable: false, identity: 'a', default: null }],
  indexes: [],
  constraints: [],
});

/** A view, a materialized view with an index, a function and an enum type. */
const objects = (): CatalogTables => [
  {
    kind: 'view',
    name: 'open_orders',
    definition: ' SELECT id FROM orders WHERE (total > 0);',
    columns: [],
    indexes: [],
    constraints: [],
  },
  {
    kind: 'materialized view',
    name: 'order_totals',
    definition: ' SELECT sum(total) AS sum FROM orders;',
    columns: [],
    indexes: [
      {
        name: 'order_totals_idx',
        definition: 'CREATE INDEX order_totals_idx ON public.order_totals USING btree (sum)',
      },
    ],
    constraints: [],
  },
  {
    kind: 'function',
    name: 'audit()',
    definition: '0cc175b9c0f1b6a831c399e269772661',
    columns: [],
    indexes: [],
    constraints: [],
  },
  {
    kind: 'type',
    name: 'order_status',
    definition: "enum ('new', 'paid')",
    columns: [],
    indexes: [],
    constraints: [],
  },
];

const shape = (tables: CatalogTables): SchemaShape => fingerprintOf(tables).shape;

function changed(edit: (tables: CatalogTables) => void): SchemaShape {
  const tables = [orders(), users(), ...objects()];
  edit(tables);
  return shape(tables);
}

const orderTable = (tables: CatalogTables) => tables[0] as CatalogTables[number];

describe('diffSchemas', () => {
  const reference = shape([orders(), users(), ...objects()]);
  const entry = (t: CatalogTables, name: string) =>
    t.find((e) => e.name === name) as CatalogTables[number];

  it.each<[string, (tables: CatalogTables) => void, string[]]>([
    ['the same schema', () => undefined, []],
    [
      'an extra column',
      (t) =>
        orderTable(t).columns.push({ name: 'note', type: 'text', nullable: true, default: null }),
      ['extra column orders.note'],
    ],
    [
      'a missing column',
      (t) => (orderTable(t).columns = orderTable(t).columns.filter((c) => c.name !== 'total')),
      ['missing column orders.total'],
    ],
    [
      'a column of another type',
      (t) => ((orderTable(t).columns[1] as { type: string }).type = 'numeric(10,2)'),
      ['column orders.total: type numeric(10,2), expected integer'],
    ],
    [
      'a column that became nullable',
      (t) => ((orderTable(t).columns[1] as { nullable: boolean }).nullable = true),
      ['column orders.total: nullable, expected not null'],
    ],
    [
      'a column that lost its default',
      (t) => ((orderTable(t).columns[2] as { default: string | null }).default = null),
      ['column orders.created_at: no default, expected now()'],
    ],
    [
      'an identity that became a plain column',
      (t) => (((t[1] as CatalogTables[number]).columns[0] as { identity?: string }).identity = ''),
      ['column users.id: no default, expected generated always as identity'],
    ],
    [
      'a missing index',
      (t) => orderTable(t).indexes.splice(1, 1),
      ['missing index orders_created_idx'],
    ],
    [
      'an extra index',
      (t) =>
        orderTable(t).indexes.push({
          name: 'orders_total_idx',
          definition: 'CREATE INDEX orders_total_idx ON public.orders USING btree (total)',
        }),
      ['extra index orders_total_idx'],
    ],
    [
      'an index on other columns',
      (t) =>
        ((orderTable(t).indexes[1] as { definition: string }).definition =
          'CREATE INDEX orders_created_idx ON public.orders USING btree (total)'),
      ['index orders_created_idx: USING btree (total), expected USING btree (created_at)'],
    ],
    [
      'an extra constraint',
      (t) =>
        orderTable(t).constraints.push({ name: 'orders_total_key', definition: 'UNIQUE (total)' }),
      ['extra constraint orders.orders_total_key'],
    ],
    [
      'a missing constraint',
      (t) => orderTable(t).constraints.splice(1, 1),
      ['missing constraint orders.orders_total_check'],
    ],
    [
      'a constraint with another definition',
      (t) =>
        ((orderTable(t).constraints[1] as { definition: string }).definition =
          'CHECK ((total > 0))'),
      ['constraint orders.orders_total_check: CHECK ((total > 0)), expected CHECK ((total >= 0))'],
    ],
    [
      'a missing trigger',
      (t) => (orderTable(t).triggers = []),
      ['missing trigger orders.orders_audit'],
    ],
    [
      'a trigger on other events',
      (t) =>
        ((orderTable(t).triggers?.[0] as { definition: string }).definition =
          'CREATE TRIGGER orders_audit AFTER UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION audit()'),
      [
        'trigger orders.orders_audit: CREATE TRIGGER orders_audit AFTER UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION audit(), expected CREATE TRIGGER orders_audit AFTER INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION audit()',
      ],
    ],
    [
      'a missing view',
      (t) => t.splice(t.indexOf(entry(t, 'open_orders')), 1),
      ['missing view open_orders'],
    ],
    [
      'a view with another query',
      (t) => (entry(t, 'open_orders').definition = ' SELECT id FROM orders;'),
      ['view open_orders: definition differs'],
    ],
    [
      "a materialized view's missing index",
      (t) => (entry(t, 'order_totals').indexes = []),
      ['missing index order_totals_idx'],
    ],
    [
      'a function with another body',
      (t) => (entry(t, 'audit()').definition = '92eb5ffee6ae2fec3ad71c777531578f'),
      ['function audit(): definition differs'],
    ],
    [
      'an extra function',
      (t) =>
        t.push({
          kind: 'function',
          name: 'audit(integer)',
          definition: '4a8a08f09d37b73795649038408b5f33',
          columns: [],
          indexes: [],
          constraints: [],
        }),
      ['extra function audit(integer)'],
    ],
    [
      'an enum missing a label',
      (t) => (entry(t, 'order_status').definition = "enum ('new')"),
      ["type order_status: enum ('new'), expected enum ('new', 'paid')"],
    ],
    ['a missing table', (t) => t.splice(1, 1), ['missing table users']],
    [
      'an extra table',
      (t) => t.push({ name: 'x', columns: [], indexes: [], constraints: [] }),
      ['extra table x'],
    ],
    [
      'several differences, by table then kind',
      (t) => {
        t.splice(1, 1);
        orderTable(t).indexes.splice(1, 1);
        orderTable(t).columns.push({ name: 'note', type: 'text', nullable: true, default: null });
      },
      ['extra column orders.note', 'missing index orders_created_idx', 'missing table users'],
    ],
  ])('%s', (_name, edit, differences) => {
    expect(diffSchemas(reference, changed(edit))).toEqual(differences);
  });
});

describe('fingerprintOf', () => {
  it('does not depend on the order the catalog lists things in', () => {
    const a = fingerprintOf([orders(), users(), ...objects()]);
    const reordered = orders();
    reordered.columns.reverse();
    reordered.indexes.reverse();
    reordered.constraints.reverse();
    const b = fingerprintOf([...objects().reverse(), users(), reordered]);
    expect(b.hash).toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    // Views, functions and types are not tables.
    expect(a.tables).toBe(2);
    expect(a.shape.objects.map((o) => `${o.kind} ${o.name}`)).toEqual([
      'function audit()',
      'materialized view order_totals',
      'type order_status',
      'view open_orders',
    ]);
  });

  it('reads a catalog from an older query (tables only, no triggers) as having none', () => {
    const { triggers: _none, ...older } = orders();
    const shape = fingerprintOf([older]).shape;
    expect(shape.tables[0]?.triggers).toEqual([]);
    expect(shape.objects).toEqual([]);
  });

  it('compares a catalog from an older query on its tables only, and says so', () => {
    const strip = ({ triggers: _t, ...table }: CatalogTables[number]) => table;
    const reference = fingerprintOf([orders(), users(), ...objects()]);
    expect(reference.coverage).toBe('full');
    // The same schema read by the older query: no trigger, view, function or type is missing.
    const older = fingerprintOf([strip(orders()), strip(users())]);
    expect(older.coverage).toBe('tables');
    expect(compareSchemas(reference, older)).toEqual({ differences: [], coverage: 'tables' });
    // What the older query does read is still compared, either way round.
    const changed = strip(orders());
    changed.columns = changed.columns.filter((c) => c.name !== 'total');
    expect(compareSchemas(reference, fingerprintOf([changed, strip(users())]))).toEqual({
      differences: ['missing column orders.total'],
      coverage: 'tables',
    });
    expect(compareSchemas(older, reference).differences).toEqual([]);
    // Two full catalogs compare everything, as diffSchemas does (these fixtures carry no
    // version entry: read by a copy from before version 3, and said so).
    const full = compareSchemas(reference, fingerprintOf([orders(), users()]));
    expect(full.coverage).toBe('before-version-3');
    expect(full.differences).toEqual([
      'missing function audit()',
      'missing materialized view order_totals',
      'missing type order_status',
      'missing view open_orders',
    ]);
    // A schema with no tables at all is read as full: it lacks the reference's objects.
    expect(fingerprintOf([]).coverage).toBe('full');
  });

  it('compares extensions by name and version, only when both catalogs read them', () => {
    const extension = (name: string, version: string): CatalogTables[number] => ({
      kind: 'extension',
      name,
      definition: version,
      columns: [],
      indexes: [],
      constraints: [],
    });
    const reference = fingerprintOf([
      orders(),
      extension('plpgsql', '1.0'),
      extension('citext', '1.6'),
    ]);
    const tenant = fingerprintOf([
      orders(),
      extension('plpgsql', '1.0'),
      extension('citext', '1.5'),
      extension('pg_trgm', '1.6'),
    ]);
    expect(compareSchemas(reference, tenant).differences).toEqual([
      'extension citext: version 1.5, expected 1.6',
      'extra extension pg_trgm',
    ]);
    expect(compareSchemas(tenant, fingerprintOf([orders(), extension('plpgsql', '1.0')]))).toEqual({
      differences: ['missing extension citext', 'missing extension pg_trgm'],
      coverage: 'before-version-3',
    });
    // A catalog from a copy of the query that reads no extensions (plpgsql is always there):
    // its extensions are not "missing".
    expect(compareSchemas(reference, fingerprintOf([orders()]))).toEqual({
      differences: [],
      coverage: 'before-version-3',
    });
  });

  it('compares sequences, domains and composite types only between catalogs of version 3 or later', () => {
    const object = (
      kind: 'sequence' | 'domain' | 'composite type' | 'catalog',
      name: string,
      definition: string,
    ): CatalogTables[number] => ({
      kind,
      name,
      definition,
      columns: [],
      indexes: [],
      constraints: [],
    });
    const version = object('catalog', 'version', '3');
    const reference = fingerprintOf([
      orders(),
      object('sequence', 'invoice_no', 'bigint increment 1 minvalue 1 maxvalue 99 start 1 cache 1'),
      object('domain', 'email', "text constraint email_check CHECK ((VALUE ~~ '%@%'::text))"),
      object('composite type', 'money_amount', '(amount numeric(12,2), currency character(3))'),
      version,
    ]);
    // The version entry says what the query read; it is not part of the schema.
    expect(reference.version).toBe(3);
    expect(reference.shape.objects.map((o) => o.kind)).toEqual([
      'composite type',
      'domain',
      'sequence',
    ]);
    const tenant = fingerprintOf([
      orders(),
      object(
        'sequence',
        'invoice_no',
        'integer increment 1 minvalue 1 maxvalue 99 start 1 cache 1',
      ),
      object('sequence', 'ticket_no', 'bigint increment 1 minvalue 1 maxvalue 99 start 1 cache 1'),
      object('composite type', 'money_amount', '(amount numeric(12,2))'),
      version,
    ]);
    expect(compareSchemas(reference, tenant)).toEqual({
      differences: [
        'composite type money_amount: (amount numeric(12,2)), expected (amount numeric(12,2), currency character(3))',
        'missing domain email',
        'sequence invoice_no: integer increment 1 minvalue 1 maxvalue 99 start 1 cache 1, expected bigint increment 1 minvalue 1 maxvalue 99 start 1 cache 1',
        'extra sequence ticket_no',
      ],
      coverage: 'full',
    });
    // A probe on a copy of the query from before version 3 reads none of them: not "missing".
    const older = fingerprintOf([orders()]);
    expect(older.version).toBe(0);
    expect(compareSchemas(reference, older)).toEqual({
      differences: [],
      coverage: 'before-version-3',
    });
    expect(compareSchemas(older, tenant).differences).toEqual([]);
    // What both read is still compared.
    const { triggers: _t, ...withoutTrigger } = orders();
    expect(
      compareSchemas(reference, fingerprintOf([{ ...withoutTrigger, triggers: [] }])).differences,
    ).toEqual(['missing trigger orders.orders_audit']);
  });

  it('changes with any difference diffSchemas names', () => {
    const a = fingerprintOf([orders(), users()]);
    const other = orders();
    (other.columns[1] as { type: string }).type = 'bigint';
    expect(fingerprintOf([other, users()]).hash).not.toBe(a.hash);
  });

  it('does not depend on the schema an index is qualified with', () => {
    expect(
      normaliseIndexDefinition('CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id)'),
    ).toBe('UNIQUE USING btree (id)');
    expect(
      normaliseIndexDefinition(
        'CREATE INDEX "Weird idx" ON ONLY "My Schema"."Orders" USING btree (created_at) WHERE (total > 0)',
      ),
    ).toBe('USING btree (created_at) WHERE (total > 0)');
  });
});

describe('parseCatalog', () => {
  it('accepts what the catalog query returns and refuses anything else', () => {
    expect(parseCatalog([orders()])).toHaveLength(1);
    expect(parseCatalog(objects())).toHaveLength(4);
    expect(parseCatalog([{ name: 'x' }])).toBeUndefined();
    expect(
      parseCatalog([{ ...objects()[0], kind: 'index' }]),
      'an unknown kind is refused, not read as a table',
    ).toBeUndefined();
    expect(parseCatalog('tables')).toBeUndefined();
  });
});

describe("the example app's probe", () => {
  it("runs berth's catalog query unchanged (the AWS probe must read what the local probe reads)", async () => {
    const { readFile } = await import('node:fs/promises');
    const source = await readFile(
      new URL('../../examples/startupwebapp/src/probe.ts', import.meta.url),
      'utf8',
    );
    const copied = /const CATALOG_SQL = `([^`]*)`;/.exec(source)?.[1];
    expect(copied).toBe(CATALOG_SQL);
  });
});
