/**
 * The run's log reader (src/providers/aws/tasks/log-reader.ts) on the fake's CloudWatch:
 * many streams in few calls, overlapping windows deduped by eventId, a stream that appears
 * late, and the GetLogEvents backfill that adds only what the rounds missed.
 */
import { describe, expect, it } from 'vitest';
import { createAwsFake } from '../../../src/providers/aws/fake/aws-fake.js';
import { SimClock } from '../../../src/providers/aws/fake/sim-clock.js';
import { LogReader } from '../../../src/providers/aws/tasks/log-reader.js';
import { AwsQuotas } from '../../../src/providers/aws/tasks/quotas.js';

const GROUP = '/ecs/app';

async function setup() {
  const fake = createAwsFake();
  await fake.clients.logs.createLogGroup(GROUP, {});
  const sim = new SimClock(fake.clock);
  const quotas = new AwsQuotas({ clock: sim });
  const reader = new LogReader({ logs: fake.clients.logs, quotas, clock: sim, pollMs: 5_000 });
  return { fake, sim, reader };
}

describe('LogReader', () => {
  it('follows 250 streams with a few FilterLogEvents a round, every line once and in order', async () => {
    const { fake, sim, reader } = await setup();
    const got = new Map<string, string[]>();
    const start = fake.clock.now();
    const follows = Array.from({ length: 250 }, (_v, i) => {
      const stream = `migration/migration/${String(i).padStart(32, '0')}`;
      got.set(stream, []);
      return reader.follow({
        group: GROUP,
        stream,
        createdAt: start,
        onLine: (line) => got.get(stream)?.push(line),
      });
    });
    const write = async (round: number) => {
      for (const [stream] of got)
        fake.ecsTasks.putLogEvents(GROUP, stream, [`line ${round}`], fake.clock.now() - 100);
      await sim.run(sim.sleep(5_000));
    };
    // The streams do not exist until their first line: the first round finds them by prefix,
    // the next ones by name.
    for (let round = 0; round < 6; round++) await write(round);
    fake.resetCalls();
    await sim.run(Promise.all(follows.map((f) => reader.settle(f, 3_000, 30_000))));
    for (const lines of got.values())
      expect(lines).toEqual([0, 1, 2, 3, 4, 5].map((r) => `line ${r}`));
    // Settling takes a round or two of 3 calls (100, 100 and 50 names), and no GetLogEvents.
    const calls = fake.calls.map((c) => c.method);
    expect(calls.filter((m) => m === 'getLogEvents')).toEqual([]);
    expect(calls.filter((m) => m === 'filterLogEvents').length).toBeLessThanOrEqual(2 * 3);
    for (const f of follows) reader.close(f);
  });

  it('rereads a window for late events without duplicates, and backfills only what it missed', async () => {
    const { fake, sim, reader } = await setup();
    const stream = 'migration/migration/task1';
    const lines: string[] = [];
    const t0 = fake.clock.now();
    const follow = reader.follow({
      group: GROUP,
      stream,
      createdAt: t0,
      onLine: (line) => lines.push(line),
    });
    fake.ecsTasks.putLogEvents(GROUP, stream, ['one', 'two'], t0 + 10);
    await sim.run(sim.sleep(12_000));
    // Ingested late, stamped before what was already read: inside the 60 s window.
    fake.ecsTasks.putLogEvents(GROUP, stream, ['late but in the window'], t0 + 5);
    await sim.run(sim.sleep(12_000));
    expect(lines).toEqual(['one', 'two', 'late but in the window']);
    // Two minutes on, a line moves the cursor; then one stamped at the start arrives: outside
    // the window, so only the backfill finds it.
    await sim.run(sim.sleep(120_000));
    fake.ecsTasks.putLogEvents(GROUP, stream, ['three'], fake.clock.now() - 100);
    await sim.run(sim.sleep(6_000));
    fake.ecsTasks.putLogEvents(GROUP, stream, ['two'], t0 + 1);
    await sim.run(reader.settle(follow, 3_000, 30_000));
    expect(lines).toEqual(['one', 'two', 'late but in the window', 'three']);
    expect(await sim.run(reader.backfill(follow))).toBe(1);
    // The second "two" is another event (same text, other time): delivered once, at the end.
    expect(lines).toEqual(['one', 'two', 'late but in the window', 'three', 'two']);
    expect(await sim.run(reader.backfill(follow))).toBe(0);
    reader.close(follow);
  });
});
