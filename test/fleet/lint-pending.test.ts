/**
 * lintPending for Django with a fake backend: one task prints the SQL of what is pending,
 * against a tenant it is pending on; a migration sqlmigrate printed no SQL for is an error
 * finding (never a silent pass), and a task that fails altogether is an environment error.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load-config.js';
import type { Config } from '../../src/config/schema.js';
import { lintPending } from '../../src/fleet/lint-pending.js';
import type { FleetBackend, ProbeResult } from '../../src/fleet/types.js';
import type { TaskSpec } from '../../src/tasks/task.js';
import { ROOT } from '../support/project.js';

const KNOWN = [
  'shop.0001_initial',
  'auth.0012_alter_user_first_name_max_length',
  'shop.0002_risky',
  'shop.0003_gone',
];
let dir: string;
let config: Config;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-lint-pending-'));
  // The project's own app; auth's migrations live in an installed package, not here.
  await mkdir(path.join(dir, 'shop/migrations'), { recursive: true });
  for (const name of ['0001_initial', '0002_risky', '0003_gone'])
    await writeFile(path.join(dir, 'shop/migrations', `${name}.py`), '');
  const raw = parse(await readFile(path.join(ROOT, 'berth.yaml'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  config = parseConfig(
    JSON.stringify({
      ...raw,
      migrations: { tool: 'django' },
      local: { ...raw.local, workdir: dir },
    }),
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function backend(log: string | null, specs: TaskSpec[]): FleetBackend {
  return {
    provider: 'local',
    runtime: {
      name: 'fake',
      run: async (spec) => {
        specs.push(spec);
        const logFile = path.join(dir, `${spec.id}.log`);
        await writeFile(logFile, log ?? 'Traceback: settings not found\n');
        return {
          id: spec.id,
          exitCode: log === null ? 1 : 0,
          timedOut: false,
          logFile,
          durationMs: 1,
        };
      },
    },
    migrations: () => Promise.resolve(KNOWN),
    prepare: () => Promise.resolve(),
    probe: (databases: string[], onResult: (r: ProbeResult) => void) => {
      for (const database of databases)
        onResult({
          database,
          exists: database !== 'fresh',
          applied: database === 'done' ? KNOWN : ['shop.0001_initial'],
          pending: database === 'done' ? [] : KNOWN.slice(1),
          pendingKnown: true,
        });
      return Promise.resolve();
    },
    lock: () => Promise.reject(new Error('lint takes no lock')),
    taskEnvironment: () => ({ DATABASE_USER: 'u' }),
    close: () => Promise.resolve(),
  };
}

const LOG = [
  '@@berth-sql begin shop.0002_risky',
  'BEGIN;',
  'ALTER TABLE "shop_product" ADD COLUMN "sku" varchar(20) NOT NULL;',
  'COMMIT;',
  '@@berth-sql end shop.0002_risky',
  '@@berth-sql begin shop.0003_gone',
  '@@berth-sql failed shop.0003_gone',
  "CommandError: Cannot find a migration matching '0003_gone' from app 'shop'.",
  '@@berth-sql end shop.0003_gone',
].join('\n');

describe('lintPending for Django', () => {
  it('one task against an existing pending tenant; no SQL for a migration is an error finding', async () => {
    const specs: TaskSpec[] = [];
    const report = await lintPending({
      config,
      configDir: dir,
      backend: backend(LOG, specs),
      databases: ['done', 'fresh', 'one'],
    });
    expect(specs).toHaveLength(1);
    expect(specs[0]?.environment).toMatchObject({ DATABASE_NAME: 'one', DATABASE_USER: 'u' });
    expect(specs[0]?.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(report.linted).toEqual(['shop.0002_risky']);
    // Only the project's migrations are asked for; the installed app's are said not linted.
    expect(specs[0]?.command[2]).not.toContain('sqlmigrate auth');
    expect(report.unsupported).toBe(
      "1 pending migration(s) of apps outside the project (auth: no APP/migrations/NAME.py under local.workdir, berth.yaml's directory or image.context) are not linted",
    );
    expect(report.ok).toBe(false);
    expect(report.findings.find((f) => f.rule === 'sql-unavailable')).toMatchObject({
      migration: 'shop.0003_gone',
      file: path.join(dir, 'shop/migrations/0003_gone.py'),
      level: 'error',
      message: expect.stringContaining("Cannot find a migration matching '0003_gone'") as string,
    });
    expect(report.findings.find((f) => f.rule === 'adding-required-field')).toMatchObject({
      migration: 'shop.0002_risky',
      line: 1,
      sqlLine: 2,
      level: 'error',
    });
  });

  it('a task that fails altogether is LINTER_UNAVAILABLE (exit 7) with its log tail', async () => {
    await expect(
      lintPending({ config, configDir: dir, backend: backend(null, []), databases: ['one'] }),
    ).rejects.toMatchObject({
      code: 'LINTER_UNAVAILABLE',
      message: expect.stringMatching(
        /sqlmigrate APP NAME.*exited 1: Traceback: settings not found/,
      ) as string,
    });
  });

  it('nothing pending: no task, nothing linted', async () => {
    const specs: TaskSpec[] = [];
    const report = await lintPending({
      config,
      configDir: dir,
      backend: backend(LOG, specs),
      databases: ['done'],
    });
    expect(specs).toEqual([]);
    expect(report).toMatchObject({ ok: true, linted: [] });
  });
});
