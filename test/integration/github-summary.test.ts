/**
 * migrate in GitHub Actions, end to end on real PostgreSQL: the job summary lands in
 * GITHUB_STEP_SUMMARY, failures become ::error annotations on stderr, and --json stdout stays
 * pure JSON.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { baseConfig, createProject, migrationsWith, type TestProject } from '../support/project.js';

const FAIL_IN_FINTECH = `-- Up Migration
DO $$ BEGIN
  IF current_database() = 'fintech_experiment' THEN
    RAISE EXCEPTION 'fixture: refusing to migrate %', current_database();
  END IF;
END $$;
-- Down Migration
SELECT 1;
`;

describe('berth migrate in GitHub Actions', () => {
  let project: TestProject | undefined;
  afterAll(() => project?.cleanup());

  it('writes the summary and annotations, and keeps --json stdout clean', async () => {
    project = await createProject();
    const dir = await migrationsWith(project.dir, { '0013_fixture_fail.sql': FAIL_IN_FINTECH });
    const base = baseConfig();
    await writeFile(
      project.configFile,
      stringify({
        ...base,
        task: { ...(base.task as object), environment: { MIGRATIONS_DIR: dir } },
        migrations: { ...(base.migrations as object), directory: dir },
        fleet: { onError: 'continue' },
      }),
    );
    const summary = path.join(project.dir, 'step-summary.md');
    await writeFile(summary, '');
    const run = await project.berth(['migrate', '--all', '--json'], {
      env: { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary },
    });
    expect(run.code).toBe(4);
    for (const line of run.stdout.trim().split('\n'))
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    expect(run.stdout).not.toContain('::error');
    expect(run.stderr).toMatch(/^::error title=berth%3A fintech_experiment failed::.+$/m);
    const text = await readFile(summary, 'utf8');
    expect(text).toContain('**1** failed');
    expect(text).toContain('### ❌ fintech_experiment');
    expect(text).toContain('fixture: refusing to migrate fintech_experiment');
    expect(text).toContain('berth migrate --database fintech_experiment');
  });
});
