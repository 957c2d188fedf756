// AWS calls `berth plan` makes on an up-to-date stack, counted against the in-memory fake
// (reads run in parallel; the aim is a few per resource). No AWS endpoint is involved. The
// counter lives here, with the bench: the library only publishes the fake (`berth-cli/testing`).
import { planStack, upStack, STACK_RESOURCES } from '../dist/index.js';
import { createAwsFake, sampleConfig, seedPrerequisites } from '../dist/testing.js';

async function countPlanCalls({ latencyMs = 0 } = {}) {
  const config = sampleConfig();
  const fake = createAwsFake({ region: config.aws.region });
  seedPrerequisites(fake, config);
  const stack = { clients: fake.clients, config, region: config.aws.region };
  await upStack(stack);
  fake.latencyMs = latencyMs;
  fake.resetCalls();
  const plan = await planStack(stack);
  const byMethod = {};
  for (const call of fake.calls) {
    const key = `${call.service}.${call.method}`;
    byMethod[key] = (byMethod[key] ?? 0) + 1;
  }
  const total = fake.calls.length;
  return {
    total,
    reads: fake.reads().length,
    writes: fake.writes().length,
    resources: STACK_RESOURCES.length,
    perResource: Math.round((total / STACK_RESOURCES.length) * 100) / 100,
    byMethod,
    peakConcurrency: fake.peakConcurrency,
    upToDate: !plan.pending,
  };
}

export async function run(log) {
  const count = await countPlanCalls({ latencyMs: 5 });
  if (!count.upToDate) throw new Error('plan found changes on a stack it had just created');
  log(
    `plan on an up-to-date stack: ${count.total} AWS calls (${count.reads} reads, ${count.writes} writes) for ${count.resources} resources, peak concurrency ${count.peakConcurrency}`,
  );
  return {
    planCallsUpToDate: {
      total: count.total,
      reads: count.reads,
      writes: count.writes,
      resources: count.resources,
      perResource: count.perResource,
      peakConcurrency: count.peakConcurrency,
      byMethod: count.byMethod,
    },
  };
}
