/**
 * The run's one DescribeTasks loop: a task polled round after round on the run's signal leaves
 * no abort listener behind (they piled up, one per poll, and Node warned on berth's stderr).
 */
import { getEventListeners, setMaxListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../../../../src/core/clock.js';
import type { EcsTask } from '../../../../src/providers/aws/api/ecs-api.js';
import { EcsPoller } from '../../../../src/providers/aws/tasks/ecs-poller.js';
import { AwsQuotas } from '../../../../src/providers/aws/tasks/quotas.js';

// A clock whose sleeps end at once: each round describes what is waiting.
const clock: Clock = { now: () => Date.now(), sleep: () => Promise.resolve() };

const running = (arn: string): EcsTask => ({
  containers: [],
  containerOverrides: [],
  tags: {},
  arn,
  id: arn.split('/').at(-1) ?? arn,
  clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/c',
  taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/t:1',
  lastStatus: 'RUNNING',
  desiredStatus: 'RUNNING',
});

function poller(): EcsPoller {
  return new EcsPoller({
    ecs: {
      describeTasks: (_cluster, arns) =>
        Promise.resolve({ tasks: arns.map(running), failures: [] }),
    },
    quotas: new AwsQuotas({ clock }),
    clock,
    pollMs: 1,
  });
}

describe('EcsPoller', () => {
  it('removes its abort listener once a round answers: none are left after many polls of many tasks', async () => {
    const p = poller();
    const controller = new AbortController();
    // Twelve waiters at once are twelve listeners at once (what this checks is that none stay).
    setMaxListeners(20, controller.signal);
    for (let round = 0; round < 15; round++) {
      const tasks = Array.from({ length: 12 }, (_, i) => `arn:aws:ecs:us-east-1:1:task/c/t${i}`);
      const seen = await Promise.all(tasks.map((arn) => p.next('c', arn, controller.signal)));
      expect(seen.map((t) => t?.lastStatus)).toEqual(tasks.map(() => 'RUNNING'));
      // Before, each poll left its listener: 12 after the first round, 180 after the last.
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    }
  });

  it('still answers a waiter at once, with nothing, when the signal aborts', async () => {
    const p = new EcsPoller({
      ecs: { describeTasks: () => new Promise(() => undefined) },
      quotas: new AwsQuotas({ clock }),
      clock: { now: () => Date.now(), sleep: () => new Promise(() => undefined) },
    });
    const controller = new AbortController();
    const waiting = p.next('c', 'arn:aws:ecs:us-east-1:1:task/c/t0', controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const aborted = await p.next('c', 'arn:aws:ecs:us-east-1:1:task/c/t1', controller.signal);
    expect(aborted).toBeUndefined();
  });
});
