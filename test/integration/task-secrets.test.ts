/**
 * task.secrets on the local provider: a task gets each variable from berth's own environment
 * (there is no Secrets Manager here); the value never reaches berth's output, the task's log
 * file or berth's state; a variable that is not set stops migrate before any database is
 * created or any task runs (exit 3), and doctor says which.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { baseConfig, createProject, EXAMPLE, type TestProject } from '../support/project.js';

const VALUE = 'sk-berth-task-secret-0123456789';

/** Every file under dir (berth's state: logs, task records, run journals). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

describe('task.secrets on the local provider', () => {
  let project: TestProject | undefined;
  afterEach(async () => {
    await project?.cleanup();
    project = undefined;
  });

  function secretsProject(): Promise<TestProject> {
    const base = baseConfig();
    return createProject({
      ...base,
      task: {
        ...(base.task as Record<string, unknown>),
        // The task prints what it got, then migrates as the example app does.
        command: ['sh', '-c', 'echo "signing key: $APP_SIGNING_KEY"; exec node dist/migrate.js'],
        secrets: { APP_SIGNING_KEY: { secret: 'startupwebapp/app', key: 'signing_key' } },
      },
      database: { ...(base.database as Record<string, unknown>), tenants: ['tenant_secret'] },
      local: { workdir: EXAMPLE, dataDir: '.berth' },
    });
  }

  it('refuses to run when the variable is not set in its environment, before creating anything', async () => {
    project = await secretsProject();
    const env = { APP_SIGNING_KEY: '' };
    const result = await project.berth(['migrate', '--all'], { env });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('task.secrets: APP_SIGNING_KEY is not set');
    expect(result.stderr).toContain('export APP_SIGNING_KEY=');
    expect(result.stderr).not.toMatch(/creating databases/);
    // Nothing began: no run was journaled, the server was never even started, no task ran.
    expect(result.stderr).not.toMatch(/migrate: 1 database/);
    const status = await project.berth(['status', '--json'], { env });
    const fleet = JSON.parse(status.stdout) as {
      postgres: { state: string };
      databases: { name: string; exists: boolean | null }[];
    };
    expect(fleet.postgres.state).toBe('not initialised');
    expect(fleet.databases.map((d) => [d.name, d.exists])).toEqual([['tenant_secret', null]]);
    const tasks = await project.berth(['tasks', 'list', '--json'], { env });
    expect((JSON.parse(tasks.stdout) as { tasks: unknown[] }).tasks).toEqual([]);
    const runs = await project.berth(['runs', 'list', '--json'], { env });
    expect((JSON.parse(runs.stdout) as { runs: unknown[] }).runs).toEqual([]);

    const doctor = await project.berth(['doctor'], { env });
    expect(doctor.code).not.toBe(0);
    expect(doctor.stdout + doctor.stderr).toMatch(/task-secrets.*APP_SIGNING_KEY not set/);
  });

  it('passes it to the task, and masks it in the output, the task log and the state files', async () => {
    project = await secretsProject();
    const env = { APP_SIGNING_KEY: VALUE };
    const migrate = await project.berth(['migrate', '--all'], { env });
    expect(migrate.stderr).not.toContain(VALUE);
    expect(migrate.stdout).not.toContain(VALUE);
    expect(migrate.code).toBe(0);

    const listed = await project.berth(['tasks', 'list', '--json'], { env });
    const [task] = (
      JSON.parse(listed.stdout) as { tasks: { id: string; kind: string }[] }
    ).tasks.filter((t) => t.kind === 'migrate');
    const logs = await project.berth(['logs', task?.id ?? 'no-migrate-task'], { env });
    expect(logs.stdout).toContain('signing key: ***');
    expect(logs.stdout).not.toContain(VALUE);

    const state = path.join(project.dir, '.berth');
    // Every file there but the server's socket, WAL-sized files included up to 5 MB.
    const files = await filesUnder(state);
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      if ((await stat(file)).size > 5_000_000) continue;
      expect(await readFile(file, 'utf8'), file).not.toContain(VALUE);
    }

    const doctor = await project.berth(['doctor'], { env });
    expect(doctor.stdout + doctor.stderr).toMatch(/task-secrets.*APP_SIGNING_KEY set/);
  });
});
