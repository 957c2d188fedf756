import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, tableCount } from '../support/pg.js';
import {
  TENANTS,
  baseConfig,
  createProject,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';
import { DJANGO_FIXTURE, PYTHON, hasDjango, skipWithoutDjango } from '../support/python.js';

const DJANGO = DJANGO_FIXTURE;
const skip = skipWithoutDjango;

// contenttypes (1) + auth (6) + shop (3) + django_migrations (1)
const DJANGO_TABLES = 11;

describe.skipIf(skip)(
  'a real Django project migrated and verified by berth across three tenants',
  () => {
    let project: TestProject;

    beforeAll(async () => {
      const base = baseConfig();
      project = await createProject({
        ...base,
        task: {
          family: 'djangoapp-migration-task',
          command: [PYTHON, 'manage.py', 'migrate', '--noinput'],
          checkCommand: [PYTHON, 'manage.py', 'migrate', '--check'],
          environment: {
            DJANGO_SETTINGS_MODULE: 'tenantsite.settings',
            PYTHONDONTWRITEBYTECODE: '1',
          },
        },
        database: { ...(base.database as object), expectedTables: DJANGO_TABLES },
        // Django's history has (app, name); berth does not list Django's migrations itself,
        // so pending comes from `migrate --check`.
        migrations: { table: 'django_migrations', nameColumns: ['app', 'name'] },
        local: { workdir: DJANGO, dataDir: '.berth' },
      });
    });
    afterAll(() => project.cleanup());

    it('has Django available (CI installs python3-django)', () => {
      expect(hasDjango).toBe(true);
    });

    it('migrates every tenant and reports the Django migrations it applied', async () => {
      const run = await project.berth(['migrate', '--all', '--json']);
      expect(run.stderr).not.toMatch(/internal error/);
      expect(run.code).toBe(0);
      const results = parseJsonLines(run.stdout).filter((l) => l.type === 'database');
      expect(results.map((r) => r.database).sort()).toEqual([...TENANTS].sort());
      for (const r of results) {
        expect(r.status).toBe('applied');
        expect(r.applied).toEqual(
          expect.arrayContaining([
            'contenttypes.0001_initial',
            'auth.0001_initial',
            'shop.0001_initial',
            'shop.0002_product_active',
          ]),
        );
      }
      for (const db of TENANTS) {
        expect(await tableCount(project.dir, db)).toBe(DJANGO_TABLES);
        const shop = await query<{ name: string }>(
          project.dir,
          db,
          "SELECT name FROM django_migrations WHERE app = 'shop' ORDER BY name",
        );
        expect(shop.map((r) => r.name)).toEqual(['0001_initial', '0002_product_active']);
      }
    });

    it('verify runs `migrate --check` per database and passes', async () => {
      const run = await project.berth(['verify', '--all', '--json']);
      expect(run.code).toBe(0);
      const result = JSON.parse(run.stdout) as {
        ok: boolean;
        databases: Record<string, unknown>[];
      };
      expect(result.ok).toBe(true);
      for (const d of result.databases)
        expect(d).toMatchObject({
          tables: DJANGO_TABLES,
          expectedTables: DJANGO_TABLES,
          pending: 0,
          check: 'passed',
          ok: true,
        });
    });

    it('a second migrate applies nothing: every tenant up to date', async () => {
      const run = await project.berth(['migrate', '--all', '--json']);
      expect(run.code).toBe(0);
      const results = parseJsonLines(run.stdout).filter((l) => l.type === 'database');
      const summary = parseJsonLines(run.stdout).at(-1) as { databases: Record<string, unknown>[] };
      // The summary lists databases in fleet order; the NDJSON lines come as each finishes.
      expect(results).toHaveLength(3);
      expect(summary.databases.map((r) => [r.database, r.status, r.applied])).toEqual(
        TENANTS.map((t) => [t, 'up-to-date', []]),
      );
    });

    it('verify catches a tenant whose Django migration was rolled back (check fails, exit 6)', async () => {
      await query(
        project.dir,
        'fintech_experiment',
        "DELETE FROM django_migrations WHERE app = 'shop' AND name = '0002_product_active'",
      );
      const run = await project.berth(['verify', '--database', 'fintech_experiment', '--json']);
      expect(run.code).toBe(6);
      const result = JSON.parse(run.stdout) as { databases: Record<string, unknown>[] };
      expect(result.databases[0]).toMatchObject({
        name: 'fintech_experiment',
        check: 'failed',
        ok: false,
        pending: null,
      });
    });
  },
);
