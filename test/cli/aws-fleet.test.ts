/**
 * migrate, verify, logs and tasks with `--provider aws`, driven through the CLI command
 * functions against the in-memory AWS fake: ECS tasks go PROVISIONING → PENDING → RUNNING →
 * STOPPED on the fake's clock, their logs reach CloudWatch late and in pages, and each task's
 * effect on the tenant databases is scripted (test/support/aws-fleet.ts).
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logsCommand } from '../../src/cli/commands/logs.js';
import { migrateCommand } from '../../src/cli/commands/migrate.js';
import { tasksListCommand, tasksStopCommand } from '../../src/cli/commands/tasks.js';
import { verifyCommand } from '../../src/cli/commands/verify.js';
import { BerthError, isBerthError } from '../../src/core/errors.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { BerthEvent } from '../../src/core/events.js';
import type { DatabaseResult } from '../../src/fleet/types.js';
import type { VerifyResult } from '../../src/fleet/verify.js';
import type { AwsTaskSummary } from '../../src/providers/aws/tasks/aws-tasks.js';
import type { EcsTaskRecord } from '../../src/providers/aws/tasks/ecs-task-runtime.js';
import {
  awsFleetHarness,
  CANNOT_PULL,
  DATABASES,
  MIGRATIONS,
  SECRET_UNREADABLE,
  type AwsFleetHarness,
} from '../support/aws-fleet.js';

let h: AwsFleetHarness;
afterEach(async () => {
  await h.cleanup();
});

type Line = { type: 'database'; runId: string } & DatabaseResult;
interface Summary {
  type: 'summary';
  runId: string;
  ok: boolean;
  counts: Record<string, number>;
  databases: DatabaseResult[];
}

function results(lines: (Line | Summary)[]): { perDatabase: Line[]; summary: Summary } {
  const summary = lines.at(-1) as Summary;
  expect(summary.type).toBe('summary');
  return { perDatabase: lines.filter((l): l is Line => l.type === 'database'), summary };
}

const byName = (summary: Summary, name: string) => {
  const found = summary.databases.find((d) => d.database === name);
  if (!found) throw new Error(`no result for ${name}`);
  return found;
};

async function localLog(taskId: string | undefined): Promise<string[]> {
  const text = await readFile(path.join(h.dir, '.berth', 'logs', `${taskId ?? '?'}.log`), 'utf8');
  return text.split('\n').filter(Boolean);
}

const kinds = () => h.fake.ecsTasks.started().map((t) => t.tags['berth:kind']);

async function expectBerthError(promise: Promise<unknown>, code: string): Promise<BerthError> {
  try {
    await promise;
  } catch (error) {
    if (isBerthError(error)) {
      expect(error.code).toBe(code);
      return error;
    }
    throw error;
  }
  throw new Error(`expected ${code}`);
}

describe('berth migrate --provider aws', () => {
  it('migrates three databases, one Fargate task each, with complete logs in order, and is a no-op the second time', async () => {
    h = await awsFleetHarness();
    h.tenants.extraLines = 3;
    h.fake.ecsTasks.logPageSize = 2; // every follow reads several pages

    expect(await migrateCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    const { perDatabase, summary } = results(h.jsonLines<Line | Summary>());
    expect(perDatabase).toHaveLength(3);
    expect(summary.ok).toBe(true);
    expect(summary.counts).toMatchObject({ total: 3, applied: 3, failed: 0 });
    for (const name of DATABASES) {
      const r = byName(summary, name);
      expect(r.status).toBe('applied');
      expect(r.applied).toEqual(MIGRATIONS);
      expect(r.exitCode).toBe(0);
      // Every line the container printed, once, in order — late events and pages included.
      const expected = MIGRATIONS.flatMap((m) => [
        `Applying ${m}`,
        ...[1, 2, 3].map((i) => `  ${m}: statement ${i}`),
      ]);
      expect(await localLog(r.taskId)).toEqual([...expected, `Applied 3 migration(s) to ${name}`]);
      const record = JSON.parse(
        await readFile(path.join(h.dir, '.berth', 'tasks', `${r.taskId ?? ''}.json`), 'utf8'),
      ) as EcsTaskRecord;
      expect(record).toMatchObject({
        kind: 'migrate',
        runtime: 'ecs',
        status: 'STOPPED',
        exitCode: 0,
        databases: [name],
        image: h.imageUri,
        logGroup: '/ecs/startupwebapp-migrations',
      });
      expect(record.logStream).toBe(`migration/migration/${record.ecsTaskId ?? ''}`);
    }

    // One probe for the three, a task per database, one probe after each task.
    const started = h.fake.ecsTasks.started();
    expect(started[0]?.overrideEnvironment).toEqual({
      BERTH_DATABASE_SCHEMA: 'public',
      DATABASE_NAMES: DATABASES.join(','),
    });
    const migrations = started.filter((t) => t.tags['berth:kind'] === 'migrate');
    expect(migrations.map((t) => t.overrideEnvironment.DATABASE_NAME).sort()).toEqual(
      [...DATABASES].sort(),
    );
    for (const t of migrations) {
      expect(t.command).toEqual(['node', 'dist/migrate.js']);
      expect(t.startedBy).toBe(`berth/migrate/${t.overrideEnvironment.DATABASE_NAME ?? ''}`);
      expect(t.tags).toMatchObject({
        'managed-by': 'berth',
        stack: 'startupwebapp',
        'berth:databases': t.overrideEnvironment.DATABASE_NAME,
      });
    }
    // The revision that ran is berth's, with this commit's image.
    const revisions = h.fake.taskDefinitions.filter((t) => t.status === 'ACTIVE');
    const latest = revisions.at(-1);
    expect(latest?.containerDefinitions[0]?.image).toBe(h.imageUri);
    expect(latest?.tags).toMatchObject({ 'managed-by': 'berth', stack: 'startupwebapp' });
    expect(new Set(migrations.map((t) => t.taskDefinitionArn))).toEqual(new Set([latest?.arn]));

    // Again: nothing pending, one probe task, no new revision.
    h.fake.resetCalls();
    const before = h.fake.ecsTasks.started().length;
    expect(await migrateCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    const again = results(h.jsonLines<Line | Summary>());
    expect(again.summary.counts).toMatchObject({ upToDate: 3, applied: 0 });
    expect(h.fake.ecsTasks.started().length - before).toBe(1);
    expect(h.fake.calls.filter((c) => c.method === 'registerTaskDefinition')).toHaveLength(0);
  });

  it('exits 4 when one task exits 1: that database failed with its log lines, the others applied', async () => {
    h = await awsFleetHarness();
    h.tenants.behaviour.set('fintech_experiment', { kind: 'fail', exitCode: 1, applyFirst: 1 });
    const code = await migrateCommand(h.ctx(), { all: true, onError: 'continue' }, h.fleetDeps);
    expect(code).toBe(ExitCode.migrationFailed);
    const { summary } = results(h.jsonLines<Line | Summary>());
    const failed = byName(summary, 'fintech_experiment');
    expect(failed).toMatchObject({
      status: 'failed',
      exitCode: 1,
      reason: 'the migrate command exited 1',
      applied: ['0001_auth'],
      pending: ['0002_catalog', '0003_orders'],
    });
    expect(failed.logExcerpt).toEqual([
      'Applying 0001_auth',
      'Applying 0002_catalog',
      'Error: 0002_catalog failed: column "x" already exists',
    ]);
    expect(byName(summary, 'startupwebapp_prod').status).toBe('applied');
    expect(byName(summary, 'healthtech_experiment').status).toBe('applied');
  });

  it('renders the same result table as the local provider, failures with their log excerpt', async () => {
    h = await awsFleetHarness({ json: false });
    h.tenants.behaviour.set('fintech_experiment', { kind: 'fail', exitCode: 1 });
    expect(
      await migrateCommand(h.ctx({ json: false }), { all: true, onError: 'continue' }, h.fleetDeps),
    ).toBe(ExitCode.migrationFailed);
    const text = h.stdout.text();
    expect(text).toMatch(/DATABASE\s+RESULT\s+APPLIED\s+TASK\s+DETAIL/);
    expect(text).toMatch(
      /fintech_experiment\s+failed\s+0\s+migrate-\S+\s+the migrate command exited 1/,
    );
    expect(text).toContain('(full log: berth logs migrate-');
    expect(text).toContain('│ Error: 0001_auth failed: column "x" already exists');
  });

  it('reports an image that cannot be pulled as failed with the reason — never a success', async () => {
    h = await awsFleetHarness();
    h.tenants.behaviour.set('healthtech_experiment', { kind: 'cannot-pull' });
    h.tenants.behaviour.set('fintech_experiment', { kind: 'secret-unreadable' });
    const code = await migrateCommand(h.ctx(), { all: true, onError: 'continue' }, h.fleetDeps);
    expect(code).toBe(ExitCode.migrationFailed);
    const { summary } = results(h.jsonLines<Line | Summary>());
    const pull = byName(summary, 'healthtech_experiment');
    expect(pull.status).toBe('failed');
    expect(pull.exitCode).toBeNull();
    expect(pull.reason).toBe(`TaskFailedToStart: ${CANNOT_PULL}`);
    expect(pull.logExcerpt?.at(-1)).toContain('CannotPullContainerError');
    const secret = byName(summary, 'fintech_experiment');
    expect(secret).toMatchObject({ status: 'failed', exitCode: null });
    expect(secret.reason).toBe(`TaskFailedToStart: ${SECRET_UNREADABLE}`);
    expect(byName(summary, 'startupwebapp_prod').status).toBe('applied');
  });

  it('stops a task stuck RUNNING past task.timeoutSeconds and reports the timeout', async () => {
    h = await awsFleetHarness({ timeoutSeconds: 60 });
    h.tenants.behaviour.set('startupwebapp_prod', { kind: 'stuck' });
    const code = await migrateCommand(h.ctx(), { database: ['startupwebapp_prod'] }, h.fleetDeps);
    expect(code).toBe(ExitCode.migrationFailed);
    const { summary } = results(h.jsonLines<Line | Summary>());
    const r = byName(summary, 'startupwebapp_prod');
    expect(r.status).toBe('failed');
    expect(r.reason).toBe('the migrate command exited 143 (timed out after 60s and was stopped)');
    expect(r.logExcerpt).toEqual([
      'Applying 0001_auth',
      'berth: timed out after 60s and was stopped',
    ]);
    expect(h.fake.calls.filter((c) => c.method === 'stopTask')).toHaveLength(1);
    const [stopped] = (
      await h.fake.clients.ecs.describeTasks('startupwebapp-cluster', [
        h.fake.ecsTasks.started().find((t) => t.tags['berth:kind'] === 'migrate')?.arn ?? '',
      ])
    ).tasks;
    expect(stopped).toMatchObject({ lastStatus: 'STOPPED', stopCode: 'UserInitiated' });
    expect(stopped?.stoppedReason).toMatch(/^berth: timed out after 60s/);
  });

  it('with --on-error stop, databases after a failure are skipped', async () => {
    h = await awsFleetHarness();
    h.tenants.behaviour.set('startupwebapp_prod', { kind: 'fail', exitCode: 1 });
    const code = await migrateCommand(
      h.ctx(),
      { all: true, concurrency: 1, onError: 'stop' },
      h.fleetDeps,
    );
    expect(code).toBe(ExitCode.migrationFailed);
    const { summary } = results(h.jsonLines<Line | Summary>());
    expect(summary.databases.map((d) => d.status)).toEqual(['failed', 'skipped', 'skipped']);
    expect(kinds().filter((k) => k === 'migrate')).toHaveLength(1);
  });

  it('batches K databases per task with the sh loop, with exact per-database results', async () => {
    h = await awsFleetHarness();
    h.tenants.behaviour.set('healthtech_experiment', { kind: 'fail', exitCode: 3 });
    const code = await migrateCommand(
      h.ctx(),
      { all: true, batchSize: 2, onError: 'continue' },
      h.fleetDeps,
    );
    expect(code).toBe(ExitCode.migrationFailed);
    const { summary } = results(h.jsonLines<Line | Summary>());
    const migrations = h.fake.ecsTasks.started().filter((t) => t.tags['berth:kind'] === 'migrate');
    expect(migrations).toHaveLength(2);
    const [pair, single] = [...migrations].sort((a, b) => b.command.length - a.command.length);
    expect([pair?.command.slice(3), single?.command.slice(3)]).toEqual([
      ['berth-batch', 'startupwebapp_prod', 'healthtech_experiment'],
      ['berth-batch', 'fintech_experiment'],
    ]);
    expect(pair?.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(pair?.startedBy).toBe('berth/migrate/2-databases');
    expect(pair?.tags['berth:databases']).toBe('startupwebapp_prod healthtech_experiment');
    expect(byName(summary, 'startupwebapp_prod')).toMatchObject({
      status: 'applied',
      exitCode: 0,
    });
    const failed = byName(summary, 'healthtech_experiment');
    expect(failed).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(failed.logExcerpt?.at(-1)).toContain('column "x" already exists');
    expect(byName(summary, 'fintech_experiment').status).toBe('applied');
    // Same task for the first two; the probes after the batches are coalesced when they coincide.
    expect(byName(summary, 'startupwebapp_prod').taskId).toBe(failed.taskId);
    const [first, ...rest] = kinds();
    expect(first).toBe('probe');
    expect(rest.filter((k) => k === 'migrate')).toHaveLength(2);
    expect(rest.filter((k) => k === 'probe').length).toBeLessThanOrEqual(2);
  });

  it('refuses a batch whose database list would not fit in RunTask overrides (8 KiB), per database', async () => {
    const names = Array.from({ length: 150 }, (_v, i) => `tenant_${String(i).padStart(56, '0')}`);
    h = await awsFleetHarness({
      probe: false,
      patch: (y) =>
        y.replace(
          'tenants: [startupwebapp_prod, healthtech_experiment, fintech_experiment]',
          `tenants: [${names.join(', ')}]`,
        ),
    });
    const code = await migrateCommand(
      h.ctx(),
      { all: true, batchSize: 150, onError: 'continue' },
      h.fleetDeps,
    );
    expect(code).toBe(ExitCode.migrationFailed);
    const { summary } = results(h.jsonLines<Line | Summary>());
    expect(summary.counts).toMatchObject({ total: 150, failed: 150 });
    expect(summary.databases[0]?.reason).toMatch(
      /^the task could not run: the task's command and environment overrides take \d+ bytes; ECS accepts at most 8192$/,
    );
    expect(h.fake.calls.filter((c) => c.method === 'runTask')).toHaveLength(0);
  });

  it('reports RunTask denied (IAM) per database, with the reason in the task log', async () => {
    h = await awsFleetHarness({ probe: false });
    h.fake.deny('ecs.runTask');
    const code = await migrateCommand(h.ctx(), { database: ['fintech_experiment'] }, h.fleetDeps);
    expect(code).toBe(ExitCode.migrationFailed);
    const { summary } = results(h.jsonLines<Line | Summary>());
    const r = byName(summary, 'fintech_experiment');
    expect(r.reason).toBe('the task could not run: access denied: ecs:runTask (fake)');
    expect(await localLog(r.taskId)).toEqual([
      'berth: could not run the task: access denied: ecs:runTask (fake)',
    ]);
  });

  it('retries RunTask failures[] (capacity), then reports the reason as a failed result', async () => {
    h = await awsFleetHarness({ probe: false });
    // The first migration's three attempts all fail; the second's first attempt fails once.
    h.fake.failNextRunTasks(4);
    const code = await migrateCommand(
      h.ctx(),
      { all: true, concurrency: 1, onError: 'continue' },
      h.fleetDeps,
    );
    expect(code).toBe(ExitCode.migrationFailed);
    const { summary } = results(h.jsonLines<Line | Summary>());
    const first = byName(summary, 'startupwebapp_prod');
    expect(first.status).toBe('failed');
    expect(first.exitCode).toBeNull();
    expect(first.reason).toMatch(/^RunTask failed: Capacity is unavailable at this time/);
    expect(await localLog(first.taskId)).toHaveLength(3);
    expect(byName(summary, 'healthtech_experiment').status).toBe('applied');
    expect(byName(summary, 'fintech_experiment').status).toBe('applied');
    expect(h.fake.calls.filter((c) => c.method === 'runTask')).toHaveLength(3 + 2 + 1);
  });

  it('without task.probeCommand every database gets a task and the result says what berth cannot know', async () => {
    h = await awsFleetHarness({ probe: false });
    h.tenants.applied.set('startupwebapp_prod', [...MIGRATIONS]);
    expect(await migrateCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.ok);
    const { summary } = results(h.jsonLines<Line | Summary>());
    expect(kinds()).toEqual(['migrate', 'migrate', 'migrate']);
    for (const r of summary.databases) {
      expect(r.status).toBe('applied');
      expect(r.applied).toEqual([]);
      expect(r.reason).toMatch(/which migrations it applied is unknown \(no task.probeCommand/);
    }
  });

  it('waits for another migration of the same database to stop, and reports it locked when it does not', async () => {
    h = await awsFleetHarness({ lockWaitSeconds: 20 });
    const ecs = h.fake.clients.ecs;
    const foreign = async (database: string, runMs: number) => {
      h.fake.onRunTask(() => ({ runMs, logs: ['another run'] }));
      const out = await ecs.runTask({
        cluster: 'startupwebapp-cluster',
        taskDefinition: 'startupwebapp-migration-task',
        launchType: 'FARGATE',
        subnets: ['subnet-0aaa1111'],
        securityGroups: [h.prerequisites.backendGroup.id],
        assignPublicIp: false,
        // As the seed's workflow starts it: no berth tags, DATABASE_NAME overridden.
        containerOverrides: [
          { name: 'migration', environment: [{ name: 'DATABASE_NAME', value: database }] },
        ],
        tags: {},
      });
      h.fake.onRunTask((t) => h.tenants.script(t));
      return out.tasks[0]?.id ?? '';
    };
    await foreign('healthtech_experiment', 10_000); // ends within the lock wait
    await foreign('fintech_experiment', Infinity); // never ends
    const code = await migrateCommand(h.ctx(), { all: true }, h.fleetDeps);
    expect(code).toBe(ExitCode.locked);
    const { summary } = results(h.jsonLines<Line | Summary>());
    expect(byName(summary, 'startupwebapp_prod').status).toBe('applied');
    expect(byName(summary, 'healthtech_experiment').status).toBe('applied');
    const locked = byName(summary, 'fintech_experiment');
    expect(locked.status).toBe('locked');
    expect(locked.reason).toMatch(/held the lock for more than 20s; nothing was applied/);
    expect(h.tenants.applied.get('fintech_experiment')).toBeUndefined();
  });

  /**
   * `migrate --database startupwebapp_prod` with Ctrl-C at the runtime's sixth sleep (the
   * task is running by then); the exit code and the fake's clock when the interrupt came.
   */
  const migrateInterrupted = async (): Promise<{
    code: number;
    abortedAt: number;
    messages: string[];
  }> => {
    const controller = new AbortController();
    const base = h.ctx();
    const messages: string[] = [];
    const ctx = {
      ...base,
      signal: controller.signal,
      interrupted: () => controller.signal.aborted,
      // --json prints no messages: the reporter's events are read here instead.
      reporter: {
        emit: (event: BerthEvent) => {
          if (event.type === 'message') messages.push(event.text);
          base.reporter.emit(event);
        },
      },
    };
    const clock = h.fleetDeps.clock ?? (() => 0);
    const sleep = h.fleetDeps.sleep;
    let sleeps = 0;
    let abortedAt = 0;
    const code = await migrateCommand(
      ctx,
      { database: ['startupwebapp_prod'] },
      {
        ...h.fleetDeps,
        sleep: async (ms, signal) => {
          if (++sleeps === 6) {
            abortedAt = clock();
            controller.abort();
          }
          await sleep?.(ms, signal);
        },
      },
    );
    return { code, abortedAt, messages };
  };

  it('stops its running tasks when interrupted (Ctrl-C) and exits 130', async () => {
    h = await awsFleetHarness();
    h.tenants.behaviour.set('startupwebapp_prod', { kind: 'stuck' });
    const { code } = await migrateInterrupted();
    expect(code).toBe(ExitCode.interrupted);
    expect(h.fake.calls.filter((c) => c.method === 'stopTask')).toHaveLength(1);
    const { summary } = results(h.jsonLines<Line | Summary>());
    expect(byName(summary, 'startupwebapp_prod').reason).toContain(
      'stopped by berth (interrupted)',
    );
  });

  it('after Ctrl-C, waits a few seconds for a log stream that never appears, not the full drain', async () => {
    h = await awsFleetHarness();
    // Like the AWS emulator's tasks: running, and never a line in CloudWatch.
    h.tenants.behaviour.set('startupwebapp_prod', { kind: 'stuck', silent: true });
    const { code, abortedAt, messages } = await migrateInterrupted();
    const clock = h.fleetDeps.clock ?? (() => 0);
    expect(code).toBe(ExitCode.interrupted);
    // On the fake's clock: StopTask and the polls until STOPPED (10 s), the short drain for
    // the stream that never appears (5 s, where the full one is 30 s: 70 s in all before),
    // then the probe task that reads what the stopped task left (20 s).
    expect(clock() - abortedAt).toBeLessThanOrEqual(50_000);
    // The wait for that probe task is said, not silent.
    expect(messages).toContainEqual(
      expect.stringMatching(
        /^interrupted: reading back what task migrate-\S+ left in startupwebapp_prod before reporting \(Ctrl-C again quits at once/,
      ),
    );
    const { summary } = results(h.jsonLines<Line | Summary>());
    expect(byName(summary, 'startupwebapp_prod').status).toBe('failed');
  });

  it('stops with AWS_REFERENCE_INVALID before any task (and any run journal) when the stack is not up', async () => {
    h = await awsFleetHarness();
    for (const td of h.fake.taskDefinitions) td.status = 'INACTIVE';
    const error = await expectBerthError(
      migrateCommand(h.ctx(), { all: true }, h.fleetDeps),
      'AWS_REFERENCE_INVALID',
    );
    expect(error.message).toBe(
      'the task definition family startupwebapp-migration-task does not exist in us-east-1',
    );
    expect(error.hint).toContain('berth up');
    expect(h.fake.ecsTasks.started()).toEqual([]);
    expect(await readdir(path.join(h.dir, '.berth', 'runs')).catch(() => [])).toEqual([]);
  });

  it('refuses a database outside the fleet and --runtime before any AWS call', async () => {
    h = await awsFleetHarness();
    await expectBerthError(
      migrateCommand(h.ctx(), { database: ['nope'] }, h.fleetDeps),
      'DATABASE_UNKNOWN',
    );
    await expectBerthError(
      migrateCommand(h.ctx(), { all: true, runtime: 'process' }, h.fleetDeps),
      'USAGE',
    );
    expect(h.fake.calls).toEqual([]);
  });

  it('runs --image, and the git SHA tag must exist in ECR', async () => {
    h = await awsFleetHarness();
    const other = `${h.imageUri.replace(/:[^:]+$/, '')}:v2`;
    expect(
      await migrateCommand(
        h.ctx(),
        { database: ['fintech_experiment'], image: other },
        h.fleetDeps,
      ),
    ).toBe(ExitCode.ok);
    expect(h.fake.taskDefinitions.at(-1)?.containerDefinitions[0]?.image).toBe(other);
    // The workflow's next step, `verify --image` with the same image: nothing new to register.
    h.jsonLines();
    h.fake.resetCalls();
    expect(
      await verifyCommand(h.ctx(), { database: ['fintech_experiment'], image: other }, h.fleetDeps),
    ).toBe(ExitCode.ok);
    expect(h.fake.calls.filter((c) => c.method === 'registerTaskDefinition')).toEqual([]);

    h.fake.repositories.get('startupwebapp-backend')?.images.splice(0);
    const error = await expectBerthError(
      migrateCommand(h.ctx(), { all: true }, h.fleetDeps),
      'AWS_REFERENCE_INVALID',
    );
    expect(error.message).toContain(':abc1234 (this commit) in ECR');
  });
});

describe('berth verify --provider aws', () => {
  it('reads table counts and pending migrations from one probe task for the whole fleet', async () => {
    h = await awsFleetHarness();
    h.tenants.applied.set('startupwebapp_prod', [...MIGRATIONS]);
    h.tenants.applied.set('healthtech_experiment', MIGRATIONS.slice(0, 2));
    h.tenants.missing.add('fintech_experiment');
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.verifyFailed);
    const result = h.json<VerifyResult>();
    expect(result).toEqual({
      ok: false,
      databases: [
        {
          name: 'startupwebapp_prod',
          exists: true,
          tables: 57,
          expectedTables: 57,
          pending: 0,
          pendingMigrations: [],
          check: 'not-configured',
          ok: true,
        },
        {
          name: 'healthtech_experiment',
          exists: true,
          tables: 38,
          expectedTables: 57,
          pending: 1,
          pendingMigrations: ['0003_orders'],
          check: 'not-configured',
          ok: false,
          reason: '38 tables, expected 57; 1 pending migration(s): 0003_orders',
        },
        {
          name: 'fintech_experiment',
          exists: false,
          tables: 0,
          expectedTables: 57,
          pending: 3,
          pendingMigrations: MIGRATIONS,
          check: 'not-configured',
          ok: false,
          reason: 'the database does not exist',
        },
      ],
      // No scratch database on AWS and no verify.reference: said, not silently passed.
      schema: {
        compared: false,
        reason:
          'the aws provider cannot create a scratch database to migrate from zero; set verify.reference to a known-good tenant',
        expectedTables: { count: 57, from: 'config' },
      },
    });
    expect(kinds()).toEqual(['probe']);
    // verify runs the deployed revision: it registers nothing.
    expect(h.fake.calls.filter((c) => c.method === 'registerTaskDefinition')).toHaveLength(0);
  });

  it('runs the check command as a task per database, and without a probe relies on it alone', async () => {
    h = await awsFleetHarness({ probe: false, checkCommand: true });
    h.tenants.applied.set('startupwebapp_prod', [...MIGRATIONS]);
    h.tenants.applied.set('healthtech_experiment', [...MIGRATIONS]);
    h.tenants.applied.set('fintech_experiment', MIGRATIONS.slice(0, 1));
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.verifyFailed);
    const result = h.json<VerifyResult>();
    expect(kinds()).toEqual(['check', 'check', 'check']);
    expect(result.databases.map((d) => [d.name, d.tables, d.pending, d.check, d.ok])).toEqual([
      ['startupwebapp_prod', null, 0, 'passed', true],
      ['healthtech_experiment', null, 0, 'passed', true],
      ['fintech_experiment', null, null, 'failed', false],
    ]);
    expect(result.databases[2]?.reason).toBe(
      'the check command failed: Pending: 0002_catalog | Pending: 0003_orders',
    );
  });

  it('cannot verify without a probe or a check, and says so', async () => {
    h = await awsFleetHarness({ probe: false });
    expect(await verifyCommand(h.ctx(), { all: true }, h.fleetDeps)).toBe(ExitCode.verifyFailed);
    const result = h.json<VerifyResult>();
    expect(result.databases[0]?.reason).toMatch(
      /^cannot verify it: no task.probeCommand.*and no check command is configured$/,
    );
    expect(h.fake.ecsTasks.started()).toEqual([]);
  });
});

describe('berth logs, tasks list and tasks stop --provider aws', () => {
  it('prints a task log from the local record, and from CloudWatch for a task run elsewhere', async () => {
    h = await awsFleetHarness();
    expect(await migrateCommand(h.ctx(), { database: ['fintech_experiment'] }, h.fleetDeps)).toBe(
      ExitCode.ok,
    );
    const { summary } = results(h.jsonLines<Line | Summary>());
    const taskId = byName(summary, 'fintech_experiment').taskId ?? '';
    expect(await logsCommand(h.ctx(), taskId, {}, h.fleetDeps)).toBe(ExitCode.ok);
    const local = h.json<{ task: EcsTaskRecord; lines: string[] }>();
    expect(local.task).toMatchObject({ id: taskId, runtime: 'ecs', exitCode: 0 });
    expect(local.lines.at(-1)).toBe('Applied 3 migration(s) to fintech_experiment');

    // Another machine (a CI runner) has no .berth: berth finds the task on the cluster.
    await rm(path.join(h.dir, '.berth'), { recursive: true, force: true });
    expect(await logsCommand(h.ctx(), taskId, {}, h.fleetDeps)).toBe(ExitCode.ok);
    const remote = h.json<{ task: AwsTaskSummary & { logStream: string }; lines: string[] }>();
    expect(remote.task).toMatchObject({
      id: taskId,
      kind: 'migrate',
      status: 'STOPPED',
      exitCode: 0,
      databases: ['fintech_experiment'],
    });
    expect(remote.lines).toEqual(local.lines);
    // By ECS task ID, even once ECS has forgotten the task.
    h.fake.clock.advance(2 * 60 * 60 * 1000);
    expect(await logsCommand(h.ctx(), remote.task.ecsTaskId, {}, h.fleetDeps)).toBe(ExitCode.ok);
    expect(h.json<{ lines: string[] }>().lines).toEqual(local.lines);
    await expectBerthError(logsCommand(h.ctx(), taskId, {}, h.fleetDeps), 'TASK_NOT_FOUND');
  });

  it("lists berth's tasks on the cluster and stops the running ones (the quick rollback)", async () => {
    h = await awsFleetHarness();
    expect(await migrateCommand(h.ctx(), { database: ['startupwebapp_prod'] }, h.fleetDeps)).toBe(
      ExitCode.ok,
    );
    h.jsonLines();
    // Two migrations still running, started by another berth (tags as berth sets them).
    h.tenants.behaviour.set('healthtech_experiment', { kind: 'stuck' });
    h.tenants.behaviour.set('fintech_experiment', { kind: 'stuck' });
    for (const [database, id] of [
      ['healthtech_experiment', 'migrate-20260102T030405-aaaaaa'],
      ['fintech_experiment', 'migrate-20260102T030405-bbbbbb'],
    ] as const) {
      await h.fake.clients.ecs.runTask({
        cluster: 'startupwebapp-cluster',
        taskDefinition: 'startupwebapp-migration-task',
        launchType: 'FARGATE',
        subnets: ['subnet-0aaa1111'],
        securityGroups: [h.prerequisites.backendGroup.id],
        assignPublicIp: false,
        containerOverrides: [
          { name: 'migration', environment: [{ name: 'DATABASE_NAME', value: database }] },
        ],
        startedBy: `berth/migrate/${database}`,
        tags: {
          'managed-by': 'berth',
          stack: 'startupwebapp',
          'berth:task': id,
          'berth:kind': 'migrate',
        },
      });
    }
    h.fake.clock.advance(5_000);

    expect(await tasksListCommand(h.ctx(), { running: true }, h.fleetDeps)).toBe(ExitCode.ok);
    const running = h.json<{ tasks: AwsTaskSummary[] }>().tasks;
    expect(running.map((t) => [t.id, t.status, t.databases])).toEqual([
      ['migrate-20260102T030405-aaaaaa', 'RUNNING', ['healthtech_experiment']],
      ['migrate-20260102T030405-bbbbbb', 'RUNNING', ['fintech_experiment']],
    ]);
    expect(await tasksListCommand(h.ctx(), {}, h.fleetDeps)).toBe(ExitCode.ok);
    const all = h.json<{ tasks: AwsTaskSummary[] }>().tasks;
    expect(all.map((t) => t.kind)).toEqual(['probe', 'migrate', 'probe', 'migrate', 'migrate']);
    expect(all.filter((t) => t.status === 'STOPPED').every((t) => t.exitCode === 0)).toBe(true);
    // --limit N: the newest N, still oldest first.
    expect(await tasksListCommand(h.ctx(), { limit: 2 }, h.fleetDeps)).toBe(ExitCode.ok);
    expect(h.json<{ tasks: AwsTaskSummary[] }>().tasks).toEqual(all.slice(-2));

    // No terminal and no --yes: refused, nothing stopped.
    const refuse = () =>
      Promise.reject(new BerthError('CONFIRMATION_REQUIRED', 'needs confirmation'));
    await expectBerthError(
      tasksStopCommand(h.ctx(), [], { all: true }, { ...h.fleetDeps, confirm: refuse }),
      'CONFIRMATION_REQUIRED',
    );
    expect(h.fake.calls.filter((c) => c.method === 'stopTask')).toHaveLength(0);

    // One by berth's task ID, then the rest with --all --yes.
    expect(
      await tasksStopCommand(
        h.ctx(),
        ['migrate-20260102T030405-aaaaaa'],
        { yes: true },
        h.fleetDeps,
      ),
    ).toBe(ExitCode.ok);
    expect(h.json<{ stopped: string[] }>().stopped).toEqual(['migrate-20260102T030405-aaaaaa']);
    expect(await tasksStopCommand(h.ctx(), [], { all: true, yes: true }, h.fleetDeps)).toBe(
      ExitCode.ok,
    );
    expect(h.json<{ stopped: string[] }>().stopped).toEqual(['migrate-20260102T030405-bbbbbb']);
    h.fake.clock.advance(5_000);
    expect(await tasksListCommand(h.ctx(), { running: true }, h.fleetDeps)).toBe(ExitCode.ok);
    expect(h.json<{ tasks: AwsTaskSummary[] }>().tasks).toEqual([]);
    await expectBerthError(
      tasksStopCommand(h.ctx(), ['migrate-nope-000000'], { yes: true }, h.fleetDeps),
      'TASK_NOT_FOUND',
    );
  });
});
