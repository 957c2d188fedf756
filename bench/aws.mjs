// AWS calls `berth plan` makes on an up-to-date stack, counted against the in-memory fake
// (reads run in parallel; the aim is a few per resource). No AWS endpoint is involved.
import { countPlanCalls } from '../dist/index.js';

export async function run(log) {
  const count = await countPlanCalls({ latencyMs: 5 });
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
