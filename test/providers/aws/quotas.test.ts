/**
 * The run's token buckets and throttling retry (src/providers/aws/tasks/quotas.ts), on a
 * simulated clock: rates hold over time, throttles are retried and counted, never thrown.
 */
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../../src/core/errors.js';
import { FakeClock } from '../../../src/providers/aws/fake/fake-tasks.js';
import { SimClock } from '../../../src/providers/aws/fake/sim-clock.js';
import { AwsQuotas, TokenBucket, isThrottle } from '../../../src/providers/aws/tasks/quotas.js';

const throttle = (code = 'ThrottlingException') =>
  new BerthError('AWS_ERROR', `ecs:RunTask failed: ${code}: Rate exceeded`, {
    details: { awsCode: code },
  });

describe('TokenBucket', () => {
  it('lets a burst through at once, then refills at its rate (Fargate launches: 100, then 20/s)', async () => {
    const clock = new SimClock(new FakeClock());
    const bucket = new TokenBucket(clock, 100, 20);
    const start = clock.now();
    const at: number[] = [];
    await clock.run(
      Promise.all(
        Array.from({ length: 300 }, () => bucket.take().then(() => at.push(clock.now() - start))),
      ),
    );
    expect(at.filter((t) => t === 0)).toHaveLength(100);
    // 200 more at 20/s: the last one 10 s in, and never more than 20 in any second after the burst.
    expect(Math.max(...at)).toBe(10_000);
    for (let s = 1; s <= 10; s++)
      expect(at.filter((t) => t > (s - 1) * 1000 && t <= s * 1000).length).toBeLessThanOrEqual(20);
  });

  it('serves waiters in arrival order', async () => {
    const clock = new SimClock(new FakeClock());
    const bucket = new TokenBucket(clock, 1, 1);
    const order: number[] = [];
    await clock.run(Promise.all([1, 2, 3, 4].map((n) => bucket.take().then(() => order.push(n)))));
    expect(order).toEqual([1, 2, 3, 4]);
  });
});

describe('AwsQuotas.call', () => {
  it('retries ThrottlingException, TooManyRequestsException and "Rate exceeded" with back-off, and counts them', async () => {
    const clock = new SimClock(new FakeClock());
    const quotas = new AwsQuotas({ clock, random: () => 0.5 });
    const errors: Error[] = [
      throttle(),
      throttle('TooManyRequestsException'),
      Object.assign(new Error('Rate exceeded'), { name: 'Error' }),
    ];
    let calls = 0;
    const start = clock.now();
    const value = await clock.run(
      quotas.call('runTask', () => {
        calls++;
        const error = errors.shift();
        return error ? Promise.reject(error) : Promise.resolve('started');
      }),
    );
    expect(value).toBe('started');
    expect(calls).toBe(4);
    expect(quotas.stats.throttled).toEqual({ runTask: 3 });
    expect(quotas.stats.retried).toEqual({ runTask: 3 });
    // Jittered exponential: half of 500, 1000 and 2000 ms.
    expect(clock.now() - start).toBe(250 + 500 + 1000);
  });

  it('passes any other error through at once', async () => {
    const clock = new SimClock(new FakeClock());
    const quotas = new AwsQuotas({ clock });
    const denied = new BerthError('AWS_ACCESS_DENIED', 'access denied: ecs:RunTask');
    await expect(clock.run(quotas.call('runTask', () => Promise.reject(denied)))).rejects.toBe(
      denied,
    );
    expect(quotas.stats.throttled).toEqual({});
  });

  it('keeps RunTask under 20 calls a second and launches under the Fargate bucket', async () => {
    const clock = new SimClock(new FakeClock());
    const quotas = new AwsQuotas({ clock });
    const start = clock.now();
    const at: number[] = [];
    await clock.run(
      Promise.all(
        Array.from({ length: 200 }, () =>
          quotas.call('runTask', () => Promise.resolve(at.push(clock.now() - start)), ['launches']),
        ),
      ),
    );
    // 20 at once (RunTask's burst), then 20/s: 200 calls take 9 s.
    expect(at.filter((t) => t === 0)).toHaveLength(20);
    expect(Math.max(...at)).toBe(9_000);
  });
});

describe('isThrottle', () => {
  it('knows throttling from other errors', () => {
    expect(isThrottle(throttle())).toBe(true);
    expect(isThrottle(Object.assign(new Error('x'), { name: 'ThrottlingException' }))).toBe(true);
    expect(isThrottle(new BerthError('AWS_ERROR', 'ClientException: bad'))).toBe(false);
  });
});
