/** The schema fingerprint: normalisation, the hash, and the differences in words. */
import { describe, expect, it } from 'vitest';
import {
  CATALOG_SQL,
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
});

const users = (): CatalogTables[number] => ({
  name: 'users',
  columns: [{ name: 'id', type: 'bigint', nullable: false, identity: 'a', default: null }],
  indexes: [],
  constraints: [],
});

const shape = (tables: CatalogTables): SchemaShape => fingerprintOf(tables).shape;

function changed(edit: (tables: CatalogTables) => void): SchemaShape {
  const tables = [orders(), users()];
  edit(tables);
  return shape(tables);
}

const orderTable = (tables: CatalogTables) => tables[0] as CatalogTables[number];

describe('diffSchemas', () => {
  const reference = shape([orders(), users()]);

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
    const a = fingerprintOf([orders(), users()]);
    const reordered = orders();
    reordered.columns.reverse();
    reordered.indexes.reverse();
    reordered.constraints.reverse();
    const b = fingerprintOf([users(), reordered]);
    expect(b.hash).toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.tables).toBe(2);
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
    expect(parseCatalog([{ name: 'x' }])).toBeUndefined();
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
