/**
 * `berth lint` for the Python tools, with the real tools on real PostgreSQL: Django's SQL from
 * `manage.py sqlmigrate` and Alembic's from its offline mode, each printed by one task against
 * a pending tenant, linted with squawk and attributed to the migration's file.
 */
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ROOT,
  baseConfig,
  createProject,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';
import { PYTHON, pythonHas, withPythonWithoutDjango } from '../support/python.js';

// In CI a missing tool is a failure, never a skip.
const skipDjango = !pythonHas('django', 'psycopg2') && !process.env.CI;
const skipAlembic = !pythonHas('alembic', 'psycopg2') && !process.env.CI;

interface LintDoc {
  ok: boolean;
  linted: string[];
  scope: string;
  findings: {
    migration: string;
    file: string;
    line: number;
    sqlLine?: number;
    rule: string;
    level: string;
  }[];
}

function databaseConfig(): Record<string, unknown> {
  const { expectedTables: _ignored, ...database } = baseConfig().database as Record<
    string,
    unknown
  >;
  return database;
}

const RISKY_DJANGO = `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('shop', '0002_product_active')]

    operations = [
        migrations.AddField(
            model_name='product',
            name='sku',
            field=models.CharField(max_length=20),
            preserve_default=True,
        ),
        migrations.AddIndex(
            model_name='product',
            index=models.Index(fields=['active'], name='shop_product_active_idx'),
        ),
    ]
`;

// An operation with no SQL to show: sqlmigrate fails on it, migrate would apply it.
const OPAQUE_DJANGO = `from django.db import migrations
from django.db.migrations.operations.base import Operation


class Opaque(Operation):
    reversible = True

    def state_forwards(self, app_label, state):
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.collect_sql:
            raise RuntimeError('this operation cannot print its SQL')

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        pass

    def describe(self):
        return 'opaque'


class Migration(migrations.Migration):
    dependencies = [('shop', '0002_product_active')]

    operations = [Opaque()]
`;

const CLEAN_DJANGO = `from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [('shop', '0002_product_active')]

    operations = [
        migrations.AddField(
            model_name='product',
            name='note',
            field=models.TextField(null=True),
        ),
    ]
`;

describe.skipIf(skipDjango)('berth lint with Django (sqlmigrate in a task)', () => {
  let project: TestProject;
  let app: string;
  beforeAll(async () => {
    app = await mkdtemp(path.join(os.tmpdir(), 'berth-lint-django-'));
    await cp(path.join(ROOT, 'test/fixtures/django-tenants'), app, { recursive: true });
    project = await createProject({
      ...baseConfig(),
      task: {
        family: 'djangoapp-migration-task',
        command: [PYTHON, 'manage.py', 'migrate', '--noinput'],
        environment: {
          DJANGO_SETTINGS_MODULE: 'tenantsite.settings',
          PYTHONDONTWRITEBYTECODE: '1',
        },
      },
      database: databaseConfig(),
      // No listCommand: the listing and sqlmigrate run with task.command's interpreter, not
      // with the `python3` on PATH, which here is a stand-in without Django (a pyenv shim).
      migrations: { tool: 'django' },
      local: { workdir: app, dataDir: '.berth' },
    });
    await withPythonWithoutDjango(project);
  });
  afterAll(async () => {
    await project.cleanup();
    await rm(app, { recursive: true, force: true });
  });

  /** `berth pipeline` stops at its lint stage (exit 16) with `pending` still pending; its output. */
  const pipelineFailsAtLint = async (pending: string): Promise<string> => {
    const run = await project.berth(['pipeline', '--all', '--skip-tests', '--runtime', 'process']);
    const output = run.stdout + run.stderr;
    expect(output).not.toMatch(/internal error/);
    expect(run.code).toBe(16);
    const plan = await project.berth(['migrate', '--plan', '--all', '--json']);
    expect(plan.code).toBe(9);
    expect(plan.stdout).toContain(pending);
    return output;
  };

  it("a fresh fleet: the project's own migrations are linted, not the installed apps' (contrib), exit 0", async () => {
    const run = await project.berth(['lint', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    const doc = parseJsonLines(run.stdout)[0] as unknown as LintDoc & { unsupported: string };
    expect(doc.linted).toEqual(['shop.0001_initial', 'shop.0002_product_active']);
    expect(doc.unsupported).toMatch(
      /^\d+ pending migration\(s\) of apps outside the project \((contenttypes, auth|auth, contenttypes)\b/,
    );
    expect(doc.findings.filter((f) => f.level === 'error')).toEqual([]);
    expect(run.code).toBe(0);
  });

  it('nothing pending: nothing to lint, exit 0', async () => {
    const migrated = await project.berth(['migrate', '--all']);
    expect(migrated.stderr).not.toMatch(/internal error/);
    expect(migrated.code).toBe(0);
    const run = await project.berth(['lint', '--json']);
    expect(run.code).toBe(0);
    expect(parseJsonLines(run.stdout)[0]).toMatchObject({ ok: true, linted: [] });
  });

  it('a NOT NULL column without a default and an index without CONCURRENTLY: exit 16, on the migration file', async () => {
    const file = path.join(app, 'shop/migrations/0003_risky.py');
    await writeFile(file, RISKY_DJANGO);
    const run = await project.berth(['lint']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(16);
    expect(run.stderr).toContain('linting the 1 migration(s) pending on 3 of 3 tenant(s)');
    expect(run.stdout).toMatch(/shop\.0003_risky \(SQL line \d+\)\s+error\s+adding-required-field/);
    expect(run.stdout).toMatch(
      /shop\.0003_risky \(SQL line \d+\)\s+error\s+require-concurrent-index-creation/,
    );

    const json = await project.berth(['lint', '--json']);
    const doc = parseJsonLines(json.stdout)[0] as unknown as LintDoc;
    expect(doc.linted).toEqual(['shop.0003_risky']);
    for (const f of doc.findings.filter((f) => f.level === 'error'))
      expect(f).toMatchObject({ migration: 'shop.0003_risky', file, line: 1 });

    const github = await project.berth(['lint'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(github.stdout).toContain(
      `::error file=${file},line=1,col=1,title=squawk adding-required-field::`,
    );

    // The pipeline's lint stage runs the same before migrate: it fails, and nothing is migrated.
    const pipeline = await pipelineFailsAtLint('shop.0003_risky');
    expect(pipeline).toContain(`${file}:1 adding-required-field`);
    await rm(file);
  });

  it('a migration whose SQL the tool cannot print fails lint and the pipeline, which migrates nothing', async () => {
    const file = path.join(app, 'shop/migrations/0003_opaque.py');
    await writeFile(file, OPAQUE_DJANGO);
    const run = await project.berth(['lint', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(16);
    const doc = parseJsonLines(run.stdout)[0] as unknown as LintDoc;
    expect(doc.findings).toEqual([
      expect.objectContaining({ migration: 'shop.0003_opaque', rule: 'sql-unavailable', file }),
    ]);
    // Nothing linted, one error: the stage fails; it is not "nothing to lint".
    const pipeline = await pipelineFailsAtLint('shop.0003_opaque');
    expect(pipeline).not.toMatch(/nothing to lint/);
    await rm(file);
  });

  it('a clean migration passes: exit 0', async () => {
    await writeFile(path.join(app, 'shop/migrations/0003_note.py'), CLEAN_DJANGO);
    const run = await project.berth(['lint', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    const doc = parseJsonLines(run.stdout)[0] as unknown as LintDoc;
    expect(doc.linted).toEqual(['shop.0003_note']);
    expect(doc.findings.filter((f) => f.level === 'error')).toEqual([]);
    expect(run.code).toBe(0);
  });
});

const ALEMBIC_INI = `[alembic]
script_location = migrations

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
`;

const ENV_PY = `import os
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
url = "postgresql://{}:{}@{}:{}/{}".format(
    os.environ["DATABASE_USER"], os.environ["DATABASE_PASSWORD"],
    os.environ.get("DATABASE_HOST", "127.0.0.1"), os.environ.get("DATABASE_PORT", "5432"),
    os.environ["DATABASE_NAME"])

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_from_config({"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
`;

const SCRIPT_MAKO = `"""\${message}"""
revision = \${repr(up_revision)}
down_revision = \${repr(down_revision)}
`;

const revision = (id: string, down: string | null, upgrade: string) => `from alembic import op
import sqlalchemy as sa

revision = '${id}'
down_revision = ${down ? `'${down}'` : 'None'}
branch_labels = None
depends_on = None


def upgrade():
${upgrade}


def downgrade():
    pass
`;

describe.skipIf(skipAlembic)('berth lint with Alembic (offline mode in a task)', () => {
  let project: TestProject;
  let app: string;
  beforeAll(async () => {
    app = await mkdtemp(path.join(os.tmpdir(), 'berth-lint-alembic-'));
    await mkdir(path.join(app, 'migrations/versions'), { recursive: true });
    await writeFile(path.join(app, 'alembic.ini'), ALEMBIC_INI);
    await writeFile(path.join(app, 'migrations/env.py'), ENV_PY);
    await writeFile(path.join(app, 'migrations/script.py.mako'), SCRIPT_MAKO);
    await writeFile(
      path.join(app, 'migrations/versions/a1_orders.py'),
      revision(
        'a1',
        null,
        "    op.create_table('orders', sa.Column('id', sa.BigInteger, primary_key=True), sa.Column('created_at', sa.DateTime))",
      ),
    );
    const alembic = [PYTHON, '-m', 'alembic'];
    project = await createProject({
      ...baseConfig(),
      task: {
        family: 'alembic-migration-task',
        command: [...alembic, 'upgrade', 'heads'],
        environment: { PYTHONDONTWRITEBYTECODE: '1' },
      },
      database: databaseConfig(),
      migrations: { tool: 'alembic', listCommand: [...alembic, 'history'] },
      local: { workdir: app, dataDir: '.berth' },
    });
    const migrated = await project.berth(['migrate', '--all']);
    expect(migrated.stderr).not.toMatch(/internal error/);
    expect(migrated.code).toBe(0);
  });
  afterAll(async () => {
    await project.cleanup();
    await rm(app, { recursive: true, force: true });
  });

  it('a NOT NULL column without a default and an index without CONCURRENTLY: exit 16, on the revision file', async () => {
    const file = path.join(app, 'migrations/versions/b2_risky.py');
    await writeFile(
      file,
      revision(
        'b2',
        'a1',
        "    op.add_column('orders', sa.Column('total', sa.Integer, nullable=False))\n    op.create_index('orders_created_idx', 'orders', ['created_at'])",
      ),
    );
    const run = await project.berth(['lint', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(16);
    const doc = parseJsonLines(run.stdout)[0] as unknown as LintDoc;
    expect(doc.linted).toEqual(['b2']);
    const errors = doc.findings.filter((f) => f.level === 'error');
    expect(errors.map((f) => f.rule).sort()).toEqual(
      expect.arrayContaining(['adding-required-field', 'require-concurrent-index-creation']),
    );
    for (const f of errors) expect(f).toMatchObject({ migration: 'b2', file, line: 1 });
    await rm(file);
  });

  it('a clean revision passes: exit 0', async () => {
    await writeFile(
      path.join(app, 'migrations/versions/b3_note.py'),
      revision(
        'b3',
        'a1',
        "    op.add_column('orders', sa.Column('note', sa.Text, nullable=True))",
      ),
    );
    const run = await project.berth(['lint', '--json']);
    expect(run.stderr).not.toMatch(/internal error/);
    const doc = parseJsonLines(run.stdout)[0] as unknown as LintDoc;
    expect(doc.linted).toEqual(['b3']);
    expect(doc.findings.filter((f) => f.level === 'error')).toEqual([]);
    expect(run.code).toBe(0);
  });
});
