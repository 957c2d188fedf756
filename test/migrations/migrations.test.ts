import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { LISTING_TOOLS, MIGRATION_TOOLS, type Config } from '../../src/config/schema.js';
import { starterConfig } from '../../src/config/starter.js';
import { isBerthError } from '../../src/core/errors.js';
import { readProbe } from '../../src/fleet/probe-result.js';
import { compare } from '../../src/migrations/drift.js';
import { historyFromRows, historySql } from '../../src/migrations/history.js';
import {
  knownFromDirectory,
  knownMigrations,
  parseAlembicHistory,
  parseDjangoPlan,
  type DirEntry,
} from '../../src/migrations/known.js';
import { PRESETS, presetFor, resolvePreset, starterTool } from '../../src/migrations/presets.js';

const file = (name: string): DirEntry => ({ name, isDirectory: () => false });
const dir = (name: string): DirEntry => ({ name, isDirectory: () => true });

function migrationsConfig(migrations: Record<string, unknown>): Config['migrations'] {
  return parseConfig(configText(migrations)).migrations;
}

function configText(migrations: Record<string, unknown>, task = 'command: [migrate]'): string {
  return `app: x
registry: { name: r }
cluster: { name: c }
logs: { group: /ecs/x }
roles: { execution: e, task: t }
task: { family: f, ${task} }
database: { secret: { name: s }, tenants: [a] }
migrations: ${JSON.stringify(migrations)}
`;
}

function issuesOf(text: string): { path: string; message: string }[] {
  try {
    parseConfig(text);
  } catch (error) {
    if (isBerthError(error))
      return (error.details?.issues ?? []) as { path: string; message: string }[];
    throw error;
  }
  return [];
}

describe('compare: known migrations against a tenant history', () => {
  it.each([
    {
      name: 'nothing applied: everything pending, in the code order',
      known: ['a', 'b', 'c'],
      history: { applied: [] },
      expected: { pending: ['a', 'b', 'c'], unknown: [], failed: [], ok: false },
    },
    {
      name: 'everything applied: ok',
      known: ['a', 'b'],
      history: { applied: ['b', 'a'] },
      expected: { pending: [], unknown: [], failed: [], ok: true },
    },
    {
      name: 'a gap in the middle is pending (out-of-order apply)',
      known: ['a', 'b', 'c'],
      history: { applied: ['a', 'c'] },
      expected: { pending: ['b'], unknown: [], failed: [], ok: false },
    },
    {
      name: 'a recorded migration the code does not have is drift',
      known: ['a', 'b'],
      history: { applied: ['a', 'b', 'x_hotfix'] },
      expected: { pending: [], unknown: ['x_hotfix'], failed: [], ok: false },
    },
    {
      name: 'a failed row (Prisma, Flyway) is never ok, and is still pending',
      known: ['a', 'b'],
      history: { applied: ['a'], failed: ['b'] },
      expected: { pending: ['b'], unknown: [], failed: ['b'], ok: false },
    },
  ])('each: $name', ({ known, history, expected }) => {
    expect(compare(known, history, 'each')).toEqual(expected);
  });

  it.each([
    {
      name: 'head in the middle: the rest is pending',
      known: ['1', '2', '3'],
      history: { applied: ['2'] },
      expected: { pending: ['3'], unknown: [], failed: [], ok: false },
    },
    {
      name: 'head at the end: ok',
      known: ['1', '2', '3'],
      history: { applied: ['3'] },
      expected: { pending: [], unknown: [], failed: [], ok: true },
    },
    {
      name: 'no head: everything pending',
      known: ['1', '2'],
      history: { applied: [] },
      expected: { pending: ['1', '2'], unknown: [], failed: [], ok: false },
    },
    {
      name: 'an unknown head is drift and leaves pending unknowable (empty)',
      known: ['1', '2'],
      history: { applied: ['9'] },
      expected: { pending: [], unknown: ['9'], failed: [], ok: false },
    },
    {
      name: 'dirty (golang-migrate): the dirty version is the head and never ok',
      known: ['1', '2', '3'],
      history: { applied: [], dirty: '2' },
      expected: { pending: ['3'], unknown: [], failed: [], dirty: '2', ok: false },
    },
  ])('head: $name', ({ known, history, expected }) => {
    expect(compare(known, history, 'head')).toEqual(expected);
  });
});

describe('the probe result with a preset history', () => {
  it('a dirty or failed history is never up to date: pending is not known, the tool must run', () => {
    const dirty = readProbe('t1', ['1', '2'], [], 3, { records: 'head', dirty: '2' });
    expect(dirty).toMatchObject({ pending: [], pendingKnown: false, dirty: '2' });
    const failed = readProbe('t2', ['a', 'b'], ['a', 'b'], 3, { failed: ['b'] });
    expect(failed).toMatchObject({ pendingKnown: false, failed: ['b'] });
  });

  it('reports drift without making the database pending', () => {
    expect(readProbe('t', ['a'], ['a', 'zz'])).toMatchObject({
      pending: [],
      pendingKnown: true,
      unknown: ['zz'],
    });
  });
});

describe('history rows', () => {
  it('sorts rows into applied, dirty and failed; an unknown state is failed, never applied', () => {
    expect(
      historyFromRows([
        { id: '1', state: 'applied' },
        { id: '2', state: 'dirty' },
        { id: '3', state: 'failed' },
        { id: '4', state: 'weird' },
      ]),
    ).toEqual({ applied: ['1'], dirty: '2', failed: ['3', '4'] });
  });

  it('quotes the table and schema (SequelizeMeta keeps its case)', () => {
    expect(historySql(PRESETS.sequelize, 'app')).toContain('FROM "app"."SequelizeMeta"');
    expect(historySql(PRESETS.django, 'public')).toContain('FROM "public"."django_migrations"');
  });
});

describe('known migrations from a directory, per preset', () => {
  it.each([
    {
      tool: 'rails' as const,
      entries: [
        file('20240102000000_add_orders.rb'),
        file('20231231235959_create_users.rb'),
        file('README.md'),
      ],
      expected: ['20231231235959', '20240102000000'],
    },
    {
      tool: 'golang-migrate' as const,
      entries: [
        file('000010_ten.up.sql'),
        file('000002_two.up.sql'),
        file('000002_two.down.sql'),
        file('000001_one.up.sql'),
      ],
      expected: ['1', '2', '10'],
    },
    {
      tool: 'flyway' as const,
      entries: [
        file('V1_10__later.sql'),
        file('V1_9__earlier.sql'),
        file('V2__two.sql'),
        file('R__views.sql'),
      ],
      expected: ['1.9', '1.10', '2'],
    },
    {
      tool: 'prisma' as const,
      entries: [
        dir('20240102000000_add_orders'),
        dir('20240101000000_init'),
        file('migration_lock.toml'),
      ],
      expected: ['20240101000000_init', '20240102000000_add_orders'],
    },
    {
      tool: 'dbmate' as const,
      entries: [file('20240102_b.sql'), file('20240101_a.sql')],
      expected: ['20240101', '20240102'],
    },
    {
      tool: 'knex' as const,
      entries: [file('20240102_b.js'), file('20240101_a.ts'), file('types.d.ts')],
      expected: ['20240101_a.ts', '20240102_b.js'],
    },
    {
      tool: 'sequelize' as const,
      entries: [file('20240101-create-user.js')],
      expected: ['20240101-create-user.js'],
    },
    {
      tool: 'typeorm' as const,
      entries: [file('1700000000001-AddOrders.ts'), file('1600000000000-Init.ts')],
      expected: ['Init1600000000000', 'AddOrders1700000000001'],
    },
    {
      tool: 'node-pg-migrate' as const,
      entries: [file('002_b.sql'), file('001_a.js')],
      expected: ['001_a', '002_b'],
    },
  ])('$tool: IDs as the tool records them, in its order', async ({ tool, entries, expected }) => {
    const source = PRESETS[tool].known;
    if (source.kind !== 'directory') throw new Error('not a directory preset');
    expect(await knownFromDirectory(source, '/p', () => Promise.resolve(entries))).toEqual(
      expected,
    );
  });

  it('an unreadable directory is a CONFIG_INVALID error naming migrations.directory', async () => {
    const source = PRESETS.rails.known;
    if (source.kind !== 'directory') throw new Error('not a directory preset');
    const error = await knownFromDirectory(source, '/p', () =>
      Promise.reject(new Error('ENOENT')),
    ).catch((e: unknown) => e);
    expect(isBerthError(error) && error.code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toContain('migrations.directory: cannot read /p/db/migrate');
  });
});

describe('listing commands', () => {
  it('parses `showmigrations --plan` lines into app.name IDs, applied or not', () => {
    const text = `[X]  contenttypes.0001_initial
[X]  auth.0001_initial
[X]  auth.0012_alter_user_first_name_max_length
[ ]  shop.0001_initial
[ ]  shop.0002_product_active ... (applied at 2026-01-01 00:00:00)
System check identified no issues (0 silenced).
`;
    expect(parseDjangoPlan(text)).toEqual([
      'contenttypes.0001_initial',
      'auth.0001_initial',
      'auth.0012_alter_user_first_name_max_length',
      'shop.0001_initial',
      'shop.0002_product_active',
    ]);
  });

  it('orders a linear `alembic history` from base to head', () => {
    const text = `27c6a30d7c24 -> 1975ea83b712 (head), add account table
ae1027a6acf -> 27c6a30d7c24, add a column
<base> -> ae1027a6acf, create tables
`;
    expect(parseAlembicHistory(text)).toEqual({
      ids: ['ae1027a6acf', '27c6a30d7c24', '1975ea83b712'],
      ordered: true,
    });
  });

  it('says an Alembic history with branches or merges cannot give pending without running', () => {
    const branched = `a1 -> b2 (head), one branch
a1 -> c3 (head), another branch
<base> -> a1 (branchpoint), init
`;
    expect(parseAlembicHistory(branched)).toMatchObject({ ordered: false });
    const merged = `b2, c3 -> d4 (head) (mergepoint), merge
a1 -> b2, one
a1 -> c3, two
<base> -> a1 (branchpoint), init
`;
    expect(parseAlembicHistory(merged)).toMatchObject({ ordered: false });
  });

  it('runs the listing once through the injected runner; an empty listing is an error', async () => {
    const calls: string[][] = [];
    const known = await knownMigrations(PRESETS.django, {
      configDir: '/p',
      runListing: (command) => {
        calls.push(command);
        return Promise.resolve('[ ]  shop.0001_initial\n');
      },
    });
    expect(known).toEqual({ ids: ['shop.0001_initial'], ordered: true });
    expect(calls).toEqual([['python3', 'manage.py', 'showmigrations', '--plan']]);
    const empty = await knownMigrations(PRESETS.django, {
      configDir: '/p',
      runListing: () => Promise.resolve('Traceback ...\n'),
    }).catch((e: unknown) => e);
    expect(isBerthError(empty) && empty.code).toBe('MIGRATIONS_LIST_FAILED');
  });
});

describe('resolving the preset from the config', () => {
  it('defaults to custom: pgmigrations, name, the configured directory (today’s behaviour)', () => {
    const preset = resolvePreset(migrationsConfig({ directory: 'migrations' }));
    expect(preset.tool).toBe('custom');
    expect(preset.history.table).toBe('pgmigrations');
    expect(historySql(preset, 'public')).toBe(
      `SELECT concat_ws('.', "name") AS id, 'applied' AS state FROM "public"."pgmigrations"`,
    );
    expect(preset.known).toMatchObject({ kind: 'directory', directory: 'migrations' });
  });

  it('migrations.directory overrides a preset directory; listCommand a preset listing', () => {
    expect(
      resolvePreset(migrationsConfig({ tool: 'flyway', directory: 'db/sql' })).known,
    ).toMatchObject({
      kind: 'directory',
      directory: 'db/sql',
    });
    expect(
      resolvePreset(
        migrationsConfig({
          tool: 'django',
          listCommand: ['python3', 'manage.py', 'showmigrations', '--plan'],
        }),
      ).known,
    ).toMatchObject({
      kind: 'listing',
      command: ['python3', 'manage.py', 'showmigrations', '--plan'],
    });
  });

  it("presetFor: the default listing runs with task.command's program when task.command keeps the preset's shape", () => {
    const listing = (migrations: Record<string, unknown>, task: string) =>
      presetFor(parseConfig(configText(migrations, task))).known;
    // A virtualenv named once, in task.command: the listing uses it too.
    expect(
      listing({ tool: 'django' }, 'command: [.venv/bin/python, manage.py, migrate, --noinput]'),
    ).toMatchObject({ command: ['.venv/bin/python', 'manage.py', 'showmigrations', '--plan'] });
    expect(
      listing({ tool: 'django' }, 'command: [/usr/bin/python3, manage.py, migrate]'),
    ).toMatchObject({ command: ['/usr/bin/python3', 'manage.py', 'showmigrations', '--plan'] });
    // An explicit listCommand wins; another shape (python -m alembic) is not guessed at.
    expect(
      listing(
        { tool: 'django', listCommand: ['python3', 'manage.py', 'showmigrations', '--plan'] },
        'command: [.venv/bin/python, manage.py, migrate]',
      ),
    ).toMatchObject({ command: ['python3', 'manage.py', 'showmigrations', '--plan'] });
    expect(
      listing({ tool: 'alembic' }, 'command: [python3, -m, alembic, upgrade, heads]'),
    ).toMatchObject({ command: ['alembic', 'history'] });
    expect(
      listing({ tool: 'alembic' }, 'command: [.venv/bin/alembic, upgrade, heads]'),
    ).toMatchObject({ command: ['.venv/bin/alembic', 'history'] });
    // Without task.command (the preset's own) and for a directory tool, nothing changes.
    expect(presetFor(parseConfig(configText({ tool: 'django' }, 'cpu: 256'))).known).toEqual(
      PRESETS.django.known,
    );
    expect(
      listing({ tool: 'knex' }, 'command: [./node_modules/.bin/knex, migrate:latest]'),
    ).toEqual(PRESETS.knex.known);
  });

  it('every tool has a preset, and LISTING_TOOLS are exactly the presets that list', () => {
    for (const tool of MIGRATION_TOOLS) {
      if (tool === 'custom') continue;
      expect(PRESETS[tool].tool).toBe(tool);
      expect(PRESETS[tool].known.kind === 'listing').toBe(LISTING_TOOLS.includes(tool));
    }
  });
});

describe('config rules for migrations.tool', () => {
  it('rejects history fields a preset fixes, a directory for a listing tool, a listCommand elsewhere', () => {
    expect(issuesOf(configText({ tool: 'django', table: 'x', directory: 'm' }))).toEqual([
      expect.objectContaining({ path: 'migrations.table' }),
      expect.objectContaining({ path: 'migrations.directory' }),
    ]);
    expect(issuesOf(configText({ tool: 'rails', listCommand: ['x'] }))).toEqual([
      expect.objectContaining({ path: 'migrations.listCommand' }),
    ]);
    expect(issuesOf(configText({ listCommand: ['x'], directory: 'm' }))).toEqual([
      expect.objectContaining({ path: 'migrations.listCommand' }),
    ]);
  });

  it('custom without a directory or a check command has no way to see pending migrations', () => {
    expect(issuesOf(configText({}))).toEqual([
      expect.objectContaining({ path: 'migrations.directory' }),
    ]);
    expect(issuesOf(configText({ tool: 'django' }))).toEqual([]);
  });

  it('expectedTables may be left out', () => {
    expect(parseConfig(configText({ tool: 'django' })).database.expectedTables).toBeUndefined();
  });
});

describe('the starter for a detected project', () => {
  it('Django: the django preset, manage.py commands, no seed values, no hand-counted tables', () => {
    const text = starterConfig('shop', starterTool({ tool: 'django', evidence: 'manage.py' }));
    const config = parseConfig(text);
    expect(config.migrations.tool).toBe('django');
    expect(config.migrations.directory).toBeUndefined();
    expect(config.task.command).toEqual(['python3', 'manage.py', 'migrate', '--noinput']);
    expect(config.task.checkCommand).toEqual(['python3', 'manage.py', 'migrate', '--check']);
    expect(config.database.expectedTables).toBeUndefined();
    expect(text).not.toMatch(/StartupWebApp|pgmigrations|57/);
  });

  it('Django: the batch command is offered, commented, with how to install it (not on by default)', () => {
    const text = starterConfig('shop', starterTool({ tool: 'django', evidence: 'manage.py' }));
    expect(text).toContain('# batchCommand: [python3, manage.py, berth_migrate]');
    expect(text).toContain('berth snippet django --app APP');
    const uncommented = text.replace('# batchCommand:', 'batchCommand:');
    expect(parseConfig(uncommented).task.batchCommand).toEqual([
      'python3',
      'manage.py',
      'berth_migrate',
    ]);
    expect(parseConfig(text).task.batchCommand).toBeUndefined();
  });

  it.each(['alembic', 'prisma', 'rails', 'flyway'] as const)('%s: a valid starter', (tool) => {
    const config = parseConfig(starterConfig('shop', starterTool({ tool, evidence: 'x' })));
    expect(config.migrations.tool).toBe(tool);
    expect(config.task.command).toEqual(PRESETS[tool].migrateCommand);
  });
});
