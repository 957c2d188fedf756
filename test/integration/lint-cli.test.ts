import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  baseConfig,
  createProject,
  migrationsWith,
  parseJsonLines,
  type TestProject,
} from '../support/project.js';

const RISKY = `-- Up Migration
CREATE INDEX audit_log_created ON audit_log (created_at);
-- Down Migration
DROP INDEX audit_log_created;
`;

describe('berth lint (real PostgreSQL for what is pending, squawk for the SQL)', () => {
  let project: TestProject;
  let dir: string;
  beforeAll(async () => {
    project = await createProject();
    dir = await migrationsWith(project.dir, {});
    const base = baseConfig();
    await writeFile(
      project.configFile,
      stringify({
        ...base,
        task: { ...(base.task as object), environment: { MIGRATIONS_DIR: dir } },
        migrations: { ...(base.migrations as object), directory: dir },
      }),
    );
    expect((await project.berth(['migrate', '--all'])).code).toBe(0);
    await writeFile(path.join(dir, '0013_audit_index.sql'), RISKY);
  });
  afterAll(() => project.cleanup());

  it('lints only the migration pending on the tenants and exits 16 on an error', async () => {
    const run = await project.berth(['lint']);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.code).toBe(16);
    expect(run.stderr).toContain('linting the 1 migration(s) pending on 3 of 3 tenant(s)');
    expect(run.stdout).toMatch(/0013_audit_index:2\s+error\s+require-concurrent-index-creation/);
    expect(run.stdout).toContain('1 migration(s) linted: 1 error(s)');
  });

  it('in GitHub Actions, findings are annotations on the file and line', async () => {
    const run = await project.berth(['lint'], { env: { GITHUB_ACTIONS: 'true' } });
    expect(run.stdout).toContain(
      `::error file=${path.join(dir, '0013_audit_index.sql')},line=2,col=1,title=squawk require-concurrent-index-creation::`,
    );
  });

  it('--json gives the findings as one document', async () => {
    const run = await project.berth(['lint', '--json']);
    expect(run.code).toBe(16);
    const [doc] = parseJsonLines(run.stdout);
    expect(doc).toMatchObject({ type: 'lint', ok: false, linted: ['0013_audit_index'] });
  });

  it('--every lints the whole directory; the example app’s own migrations pass', async () => {
    await rm(path.join(dir, '0013_audit_index.sql'));
    const run = await project.berth(['lint', '--every']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✓ 12 migration\(s\) linted: 0 error\(s\), \d+ warning\(s\)/);
  });
});
