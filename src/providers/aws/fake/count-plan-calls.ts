/**
 * For the bench: how many AWS calls `plan` makes on an up-to-date stack, against the fake.
 * bench/run.mjs imports `countPlanCalls` from the built library (dist/index.js).
 */
import { planStack, upStack, STACK_RESOURCES } from '../../../resources/stack.js';
import { createAwsFake } from './aws-fake.js';
import { sampleConfig, seedPrerequisites } from './sample-stack.js';

export interface PlanCallCount {
  /** AWS calls one `plan` made. */
  total: number;
  reads: number;
  /** Always 0: plan never writes. */
  writes: number;
  resources: number;
  perResource: number;
  /** e.g. { "iam.getRole": 2, ... } */
  byMethod: Record<string, number>;
  /** Most calls in flight at once: > 1 means reads ran in parallel. */
  peakConcurrency: number;
  /** Wall time of the plan (meaningful with latencyMs). */
  durationMs: number;
  /** Whether the plan found nothing to change (it should). */
  upToDate: boolean;
}

export async function countPlanCalls(options: { latencyMs?: number } = {}): Promise<PlanCallCount> {
  const config = sampleConfig();
  const fake = createAwsFake({ region: config.aws.region });
  seedPrerequisites(fake, config);
  const stack = { clients: fake.clients, config, region: config.aws.region };
  await upStack(stack);
  fake.latencyMs = options.latencyMs ?? 0;
  fake.resetCalls();
  const started = performance.now();
  const plan = await planStack(stack);
  const durationMs = performance.now() - started;
  const byMethod: Record<string, number> = {};
  for (const call of fake.calls)
    byMethod[`${call.service}.${call.method}`] =
      (byMethod[`${call.service}.${call.method}`] ?? 0) + 1;
  const total = fake.calls.length;
  return {
    total,
    reads: fake.reads().length,
    writes: fake.writes().length,
    resources: STACK_RESOURCES.length,
    perResource: Math.round((total / STACK_RESOURCES.length) * 100) / 100,
    byMethod,
    peakConcurrency: fake.peakConcurrency,
    durationMs: Math.round(durationMs * 10) / 10,
    upToDate: !plan.pending,
  };
}
