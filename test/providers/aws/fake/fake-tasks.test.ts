/** The fake's ECS tasks and CloudWatch streams: what the task runtime's tests rely on, pinned. */
import { beforeEach, describe, expect, it } from 'vitest';
import { isBerthError } from '../../../../src/core/errors.js';
import type { RunTaskInput } from '../../../../src/providers/aws/api/ecs-api.js';
import { createAwsFake, type AwsFake } from '../../../../src/providers/aws/fake/aws-fake.js';
import {
  sampleConfig,
  seedPrerequisites,
} from '../../../../src/providers/aws/fake/sample-stack.js';
import { upStack } from '../../../../src/providers/aws/stack/stack.js';

const CLUSTER = 'startupwebapp-cluster';
const GROUP = '/ecs/startupwebapp-migrations';
let fake: AwsFake;
let input: RunTaskInput;

beforeEach(async () => {
  const config = sampleConfig();
  fake = createAwsFake();
  const { backendGroup } = seedPrerequisites(fake, config);
  await upStack({ clients: fake.clients, config, region: 'us-east-1' });
  input = {
    cluster: CLUSTER,
    taskDefinition: 'startupwebapp-migration-task',
    launchType: 'FARGATE',
    subnets: ['subnet-0aaa1111'],
    securityGroups: [backendGroup.id],
    assignPublicIp: false,
    containerOverrides: [
      { name: 'migration', environment: [{ name: 'DATABASE_NAME', value: 'fintech_experiment' }] },
    ],
    startedBy: 'berth/migrate/fintech_experiment',
    tags: { 'berth:task': 'migrate-1' },
  };
});

async function start(): Promise<string> {
  const out = await fake.clients.ecs.runTask(input);
  expect(out.failures).toEqual([]);
  return out.tasks[0]?.arn ?? '';
}

async function describe1(arn: string) {
  const out = await fake.clients.ecs.describeTasks(CLUSTER, [arn]);
  return out.tasks[0];
}

async function awsCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isBerthError(error)) {
      const code = error.details?.awsCode;
      return typeof code === 'string' ? code : error.code;
    }
    throw error;
  }
  throw new Error('expected an error');
}

describe('AwsFake ECS tasks', () => {
  it('goes PROVISIONING → PENDING → RUNNING → STOPPED on the clock, and the script sees the overrides', async () => {
    let ran = 0;
    fake.onRunTask((task) => {
      expect(task.environment.DATABASE_NAME).toBe('fintech_experiment');
      expect(task.environment.NODE_ENV).toBe('production'); // from the task definition
      expect(task.command).toEqual(['node', 'dist/migrate.js']);
      return { provisioningMs: 1000, pendingMs: 2000, runMs: 3000, run: () => ({ exitCode: 7 }) };
    });
    const arn = await start();
    const states: string[] = [];
    for (let t = 0; t <= 7000; t += 500) {
      const task = await describe1(arn);
      states.push(task?.lastStatus ?? '?');
      if (task?.lastStatus === 'RUNNING') ran++;
      fake.clock.advance(500);
    }
    expect([...new Set(states)]).toEqual(['PROVISIONING', 'PENDING', 'RUNNING', 'STOPPED']);
    expect(ran).toBe(6);
    const task = await describe1(arn);
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      desiredStatus: 'STOPPED',
      stopCode: 'EssentialContainerExited',
      startedBy: 'berth/migrate/fintech_experiment',
      tags: { 'berth:task': 'migrate-1' },
      containers: [{ name: 'migration', exitCode: 7, lastStatus: 'STOPPED' }],
      containerOverrides: [
        {
          name: 'migration',
          environment: [{ name: 'DATABASE_NAME', value: 'fintech_experiment' }],
        },
      ],
    });
    expect(task?.id).toMatch(/^[0-9a-f]{32}$/);
    expect(task?.stoppedAt?.getTime()).toBe((task?.createdAt?.getTime() ?? 0) + 6000);
  });

  it('fails to start: PENDING → STOPPED with the stop code and reasons, and no exit code', async () => {
    fake.onRunTask(() => ({
      failToStart: {
        stoppedReason: 'CannotPullContainerError: nope',
        containerReason: 'pull: nope',
      },
    }));
    const arn = await start();
    fake.clock.advance(1500);
    expect((await describe1(arn))?.lastStatus).toBe('PENDING');
    fake.clock.advance(1000);
    const task = await describe1(arn);
    expect(task).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'TaskFailedToStart',
      stoppedReason: 'CannotPullContainerError: nope',
    });
    expect(task?.containers).toEqual([
      { name: 'migration', lastStatus: 'STOPPED', reason: 'pull: nope' },
    ]);
    expect(task?.startedAt).toBeUndefined();
  });

  it('delivers log events late, in order, in pages with forward tokens', async () => {
    fake.onRunTask(() => ({ runMs: 4000, logLagMs: 1500, logs: ['one', 'two', 'three'] }));
    const arn = await start();
    const id = arn.split('/').pop() ?? '';
    const stream = `migration/migration/${id}`;
    const get = (nextToken?: string) =>
      fake.clients.logs.getLogEvents({
        group: GROUP,
        stream,
        startFromHead: true,
        limit: 2,
        ...(nextToken ? { nextToken } : {}),
      });
    // No stream until the first event arrives (printed at 3000 ms, delivered at 4500 ms).
    fake.clock.advance(4000);
    expect(await get()).toBeUndefined();
    fake.clock.advance(500);
    const first = await get();
    expect(first?.events.map((e) => e.message)).toEqual(['one']);
    // At the end: the same token comes back.
    expect((await get(first?.nextForwardToken))?.nextForwardToken).toBe(first?.nextForwardToken);
    fake.clock.advance(10_000);
    expect((await describe1(arn))?.lastStatus).toBe('STOPPED');
    const rest = await get(first?.nextForwardToken);
    expect(rest?.events.map((e) => e.message)).toEqual(['two', 'three']);
    const end = await get(rest?.nextForwardToken);
    expect(end).toEqual({ events: [], nextForwardToken: rest?.nextForwardToken });
    expect(rest?.events[0]?.timestamp).toBeLessThan(rest?.events[1]?.timestamp ?? 0);
  });

  it('StopTask: a running container exits 143; one that never started has no exit code', async () => {
    fake.onRunTask(() => ({ runMs: Infinity, logs: ['working'] }));
    const running = await start();
    const early = await start();
    fake.clock.advance(2500);
    expect((await describe1(running))?.lastStatus).toBe('RUNNING');
    const stopping = await fake.clients.ecs.stopTask(CLUSTER, running, 'rollback');
    expect(stopping).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'DEPROVISIONING' });
    fake.clock.advance(1000);
    expect(await describe1(running)).toMatchObject({
      lastStatus: 'STOPPED',
      stopCode: 'UserInitiated',
      stoppedReason: 'rollback',
      containers: [{ exitCode: 143 }],
    });
    expect(await fake.clients.ecs.listTaskArns(CLUSTER, { desiredStatus: 'RUNNING' })).toEqual([
      early,
    ]);
    // Stopped while PROVISIONING: it never ran.
    const fresh = await start();
    await fake.clients.ecs.stopTask(CLUSTER, fresh, 'never mind');
    fake.clock.advance(5000);
    const task = await describe1(fresh);
    expect(task?.containers[0]?.exitCode).toBeUndefined();
    expect(task?.stopCode).toBe('UserInitiated');
  });

  it('lists by family and desired status, and forgets stopped tasks after an hour', async () => {
    const arn = await start();
    expect(
      await fake.clients.ecs.listTaskArns(CLUSTER, {
        family: 'startupwebapp-migration-task',
        desiredStatus: 'RUNNING',
      }),
    ).toEqual([arn]);
    expect(
      await fake.clients.ecs.listTaskArns(CLUSTER, { family: 'other', desiredStatus: 'RUNNING' }),
    ).toEqual([]);
    fake.clock.advance(10_000);
    expect(await fake.clients.ecs.listTaskArns(CLUSTER, { desiredStatus: 'STOPPED' })).toEqual([
      arn,
    ]);
    fake.clock.advance(60 * 60 * 1000);
    expect(await fake.clients.ecs.listTaskArns(CLUSTER, { desiredStatus: 'STOPPED' })).toEqual([]);
    expect(await fake.clients.ecs.describeTasks(CLUSTER, [arn])).toEqual({
      tasks: [],
      failures: [{ arn, reason: 'MISSING' }],
    });
  });

  it('answers RunTask with failures[] on request, and validates what real ECS validates', async () => {
    fake.failNextRunTasks(1);
    const out = await fake.clients.ecs.runTask(input);
    expect(out.tasks).toEqual([]);
    expect(out.failures[0]?.reason).toMatch(/^Capacity is unavailable/);
    expect(
      await awsCode(
        fake.clients.ecs.runTask({
          ...input,
          containerOverrides: [{ name: 'nope', command: ['x'] }],
        }),
      ),
    ).toBe('InvalidParameterException');
    expect(await awsCode(fake.clients.ecs.runTask({ ...input, subnets: [] }))).toBe(
      'InvalidParameterException',
    );
    expect(await awsCode(fake.clients.ecs.runTask({ ...input, cluster: 'nope' }))).toBe(
      'ClusterNotFoundException',
    );
    expect(
      await awsCode(fake.clients.ecs.runTask({ ...input, taskDefinition: 'nope-family' })),
    ).toBe('ClientException');
  });

  it('a task whose log group is gone fails to start the way the awslogs driver does', async () => {
    await fake.clients.logs.deleteLogGroup(GROUP);
    const arn = await start();
    fake.clock.advance(5000);
    const task = await describe1(arn);
    expect(task?.stopCode).toBe('TaskFailedToStart');
    expect(task?.stoppedReason).toMatch(/^ResourceInitializationError: .*log group does not exist/);
  });

  it('counts running and pending tasks on the cluster (down refuses while tasks run)', async () => {
    fake.onRunTask(() => ({ runMs: Infinity }));
    await start();
    await fake.clients.ecs.describeTasks(CLUSTER, []);
    expect((await fake.clients.ecs.describeCluster(CLUSTER))?.pendingTasksCount).toBe(1);
    fake.clock.advance(3000);
    await fake.clients.ecs.describeTasks(CLUSTER, []);
    expect((await fake.clients.ecs.describeCluster(CLUSTER))?.runningTasksCount).toBe(1);
  });
});
