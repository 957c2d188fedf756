/**
 * berth's fleet commands on AWS (migrate, verify, logs, tasks) against the AWS emulator (moto),
 * as far as it runs them, through the built CLI with nothing changed but the endpoint.
 *
 * moto never runs a container: RunTask records a task, DescribeTasks walks it to STOPPED over a
 * few calls, its container's exit code reads 0 (or is absent), and no CloudWatch log stream is
 * ever written. Such a task proves nothing, so berth must never call it a success: no database
 * `applied`, no check `passed`.
 *
 * What moto does not do, and where those paths are covered instead (the in-memory fake,
 * src/providers/aws/fake/, with its own tests in test/unit/aws-fake*.test.ts):
 *  - a task that runs and prints: log following, the ::berth-probe/::berth-begin/::berth-end
 *    markers, exit codes, no line lost or read twice — test/unit/aws-fleet.test.ts and
 *    test/unit/aws-pipeline.test.ts;
 *  - StopTask with a stop code (`UserInitiated`), a timeout, OOM, CannotPullContainerError,
 *    RunTask `failures[]` — test/unit/aws-fleet.test.ts, aws-fake-tasks.test.ts;
 *  - the lock (another run's task still RUNNING): moto tasks keep desiredStatus RUNNING after
 *    they stop and walk to STOPPED on describes, so "still running" cannot be held here —
 *    test/unit/aws-fleet.test.ts;
 *  - `down` refusing while tasks run (moto's runningTasksCount stays 0 for Fargate) —
 *    test/unit/aws-flow.test.ts;
 *  - pushing an image: moto's ECR has no registry — the container lab's registry
 *    (test/integration/container-pipeline.test.ts) and test/unit/image-push.test.ts.
 */
import { DescribeTasksCommand, ECSClient, RunTaskCommand } from '@aws-sdk/client-ecs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  emulatorConfigYaml,
  emulatorProject,
  lastJson,
  requireEmulator,
  resetEmulator,
  sdkSettings,
  seedEmulatorPrerequisites,
  expectNoWrites,
  writes,
  type ApiCall,
  type EmulatorPrerequisites,
  type EmulatorProject,
} from '../support/aws-emulator.js';

const endpoint = await requireEmulator();

const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-backend:abc1234';
const TENANTS = ['startupwebapp_prod', 'healthtech_experiment', 'fintech_experiment'];

interface DatabaseLine {
  type: 'database';
  database: string;
  status: string;
  taskId?: string;
  exitCode?: number | null;
  reason?: string;
}
interface Summary {
  type: 'summary';
  ok: boolean;
  counts: Record<string, number>;
  databases: DatabaseLine[];
}
interface VerifyResult {
  ok: boolean;
  databases: { name: string; ok: boolean; check: string; reason?: string; checkTaskId?: string }[];
}

const count = (calls: readonly ApiCall[], action: string) =>
  calls.filter((c) => c.action === action).length;

/** The task definition's command plus what the suite adds for one scenario. */
const withTask = (lines: string) => (yaml: string) =>
  yaml.replace(
    '  command: [node, dist/migrate.js]\n',
    `  command: [node, dist/migrate.js]\n${lines}`,
  );

describe.skipIf(!endpoint)('migrate, verify, logs and tasks against the emulator', () => {
  const url = endpoint ?? '';
  let prereqs: EmulatorPrerequisites;
  let p: EmulatorProject;
  const ecs = () => new ECSClient(sdkSettings(url));
  let blind: Summary | undefined;

  beforeAll(async () => {
    await resetEmulator(url);
    prereqs = await seedEmulatorPrerequisites(url);
    p = await emulatorProject(url, emulatorConfigYaml(prereqs));
    await mkdir(path.join(p.dir, 'migrations'));
    await writeFile(path.join(p.dir, 'migrations/0001_init.sql'), 'CREATE TABLE t (id int);\n');
    const up = await p.berth(['up']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
  });
  afterAll(async () => {
    await p?.cleanup();
  });

  it('without a probe, runs one task per database and records what it saw: no exit it can trust, no log', async () => {
    const run = await p.berth([
      'migrate',
      '--provider',
      'aws',
      '--all',
      '--concurrency',
      '3',
      '--image',
      IMAGE,
      '--json',
    ]);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as DatabaseLine | Summary);
    const summary = lines.at(-1) as Summary;
    expect(summary.type, run.stderr).toBe('summary');
    blind = summary;
    expect(summary.databases.map((d) => d.database).sort()).toEqual([...TENANTS].sort());
    // One revision with the image, one RunTask per database, nothing else written.
    expect(writes(run.calls).sort()).toEqual(
      ['ecs:RegisterTaskDefinition', 'ecs:RunTask', 'ecs:RunTask', 'ecs:RunTask'].sort(),
    );
    expect(count(run.calls, 'GetLogEvents')).toBeGreaterThan(0);
    expect(run.stderr).not.toContain('NodeVersionSupportWarning');
    // berth's own log of each task says that nothing ever reached CloudWatch.
    for (const d of summary.databases) {
      const log = await p.berth(['logs', d.taskId ?? '?']);
      expect(log.code).toBe(0);
      expect(log.stdout).toMatch(
        /no log stream \/ecs\/startupwebapp-migrations:migration\/migration\/\S+ appeared/,
      );
    }
  });

  // Issue 11, point 3: a container that exited 0 without a single log line, whose effect no
  // probe confirms, is never `applied` (src/fleet/outcome.ts).
  it('reports those tasks as not confirmed, never applied', () => {
    expect(blind).toBeDefined();
    for (const d of blind?.databases ?? []) expect(d.status).not.toBe('applied');
    expect(blind?.ok).toBe(false);
  });

  it('with a probe whose task prints nothing, fails every database and starts no migration task', async () => {
    await p.writeConfig(
      emulatorConfigYaml(prereqs, withTask('  probeCommand: [node, dist/probe.js]\n')),
    );
    const run = await p.berth([
      'migrate',
      '--provider',
      'aws',
      '--all',
      '--image',
      IMAGE,
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(4);
    const summary = lastJson<Summary>(run.stdout);
    expect(summary).toMatchObject({ ok: false, counts: { total: 3, failed: 3, applied: 0 } });
    for (const d of summary.databases)
      expect(d.reason).toMatch(/the probe task probe-\S+ reported nothing for it/);
    // Only the probe ran: one task for the three databases.
    expect(count(run.calls, 'RunTask')).toBe(1);

    const verify = await p.berth([
      'verify',
      '--provider',
      'aws',
      '--all',
      '--image',
      IMAGE,
      '--json',
    ]);
    expect(verify.code).toBe(6);
    const result = lastJson<VerifyResult>(verify.stdout);
    expect(result.ok).toBe(false);
    for (const d of result.databases) {
      expect(d.ok).toBe(false);
      expect(d.reason).toMatch(/reported nothing for it/);
    }
    expect(writes(verify.calls)).toEqual(['ecs:RunTask']);
  });

  // Issue 11, points 3 and 9: without a probe, a check task that exits 0 but never printed a
  // line is not a passed check (src/fleet/verify.ts).
  it('does not call a check task that wrote nothing a passed check', async () => {
    await p.writeConfig(
      emulatorConfigYaml(prereqs, withTask('  checkCommand: [node, dist/check.js]\n')),
    );
    const verify = await p.berth([
      'verify',
      '--provider',
      'aws',
      '--database',
      'fintech_experiment',
      '--image',
      IMAGE,
      '--json',
    ]);
    const result = lastJson<VerifyResult>(verify.stdout);
    expect(result.databases[0]?.check).not.toBe('passed');
    expect(result.ok).toBe(false);
    expect(verify.code).toBe(6);
  });

  it('lists berth’s tasks on the cluster, and reads a task’s log from the cluster when this machine has no record', async () => {
    const list = await p.berth(['tasks', 'list', '--provider', 'aws', '--json']);
    expect(list.code).toBe(0);
    const tasks = lastJson<{
      tasks: { id: string; kind: string; status: string; databases: string[] }[];
    }>(list.stdout).tasks;
    const migrations = tasks.filter((t) => t.kind === 'migrate');
    expect(migrations.map((t) => t.databases[0]).sort()).toEqual([...TENANTS].sort());
    expect(tasks.filter((t) => t.kind === 'probe').length).toBeGreaterThanOrEqual(2);
    expect(new Set(tasks.map((t) => t.status))).toEqual(new Set(['STOPPED']));
    expectNoWrites(list.calls);

    const text = await p.berth(['tasks', 'list', '--provider', 'aws']);
    expect(text.stdout).toMatch(/^TASK\s+ECS TASK\s+KIND\s+STATUS/m);

    // A CI runner ran it: no local record, so berth finds it by its tag and reads CloudWatch.
    const first = migrations[0]?.id ?? '?';
    await rm(path.join(p.dir, '.berth/tasks'), { recursive: true, force: true });
    await rm(path.join(p.dir, '.berth/logs'), { recursive: true, force: true });
    const log = await p.berth(['logs', first, '--provider', 'aws', '--json']);
    expect(log.code, log.stdout + log.stderr).toBe(0);
    const read = lastJson<{ task: { id: string; logStream: string }; lines: string[] }>(log.stdout);
    expect(read.task.id).toBe(first);
    expect(read.task.logStream).toMatch(/^migration\/migration\//);
    expect(read.lines).toEqual([]);
    expectNoWrites(log.calls);
  });

  it('stops a running berth task with tasks stop, and only berth’s', async () => {
    // Another machine's berth started one (its tags), and someone else started another.
    const client = ecs();
    const start = async (tags: { key: string; value: string }[]) =>
      (
        await client.send(
          new RunTaskCommand({
            cluster: 'startupwebapp-cluster',
            taskDefinition: 'startupwebapp-migration-task',
            launchType: 'FARGATE',
            networkConfiguration: {
              awsvpcConfiguration: {
                subnets: prereqs.subnetIds,
                securityGroups: [prereqs.backendGroupId],
              },
            },
            tags,
          }),
        )
      ).tasks?.[0]?.taskArn ?? '';
    const berths = await start([
      { key: 'managed-by', value: 'berth' },
      { key: 'stack', value: 'startupwebapp' },
      { key: 'berth:task', value: 'migrate-20260101T000000-abcdef' },
      { key: 'berth:kind', value: 'migrate' },
      { key: 'berth:databases', value: 'fintech_experiment' },
    ]);
    const others = await start([{ key: 'team', value: 'someone-else' }]);

    const stop = await p.berth(['tasks', 'stop', '--provider', 'aws', '--all', '--yes', '--json']);
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    expect(lastJson<{ stopped: string[] }>(stop.stdout).stopped).toEqual([
      'migrate-20260101T000000-abcdef',
    ]);
    expect(writes(stop.calls)).toEqual(['ecs:StopTask']);
    const described = await client.send(
      new DescribeTasksCommand({ cluster: 'startupwebapp-cluster', tasks: [berths, others] }),
    );
    const byArn = new Map(described.tasks?.map((t) => [t.taskArn, t]));
    expect(byArn.get(berths)?.lastStatus).toBe('STOPPED');
    expect(byArn.get(others)?.lastStatus).not.toBe('STOPPED');
  });
});
