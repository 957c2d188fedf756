/**
 * Results for unusual containers on ECS (issue 15, point 5): each gets a clear result and a
 * readable reason, never "failed: [null]", and the essential container decides.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { migrateCommand } from '../../../src/cli/commands/migrate.js';
import { ExitCode } from '../../../src/core/exit-codes.js';
import type { DatabaseResult } from '../../../src/fleet/types.js';
import type { FakeTaskScript } from '../../../src/providers/aws/fake/fake-tasks.js';
import { awsFleetHarness, MIGRATIONS, type AwsFleetHarness } from '../../support/aws-fleet.js';

let h: AwsFleetHarness;
afterEach(async () => {
  await h.cleanup();
});

const DB = 'fintech_experiment';

/** Runs `migrate --database DB` with the migrate task's script changed by `change`. */
async function migrateWith(
  change: (script: FakeTaskScript) => FakeTaskScript,
  timeoutSeconds = 600,
): Promise<{ code: number; result: DatabaseResult }> {
  h = await awsFleetHarness({ timeoutSeconds });
  h.fake.onRunTask((t) => {
    const script = h.tenants.script(t);
    return t.tags['berth:kind'] === 'migrate' ? change(script) : script;
  });
  const code = await migrateCommand(h.ctx(), { database: [DB] }, h.fleetDeps);
  const summary = h.jsonLines<{ type: string; databases?: DatabaseResult[] }>().at(-1);
  const result = summary?.databases?.[0];
  if (!result) throw new Error('no result');
  return { code, result };
}

describe('unusual containers', () => {
  it('a container that exits 0 on SIGTERM after the timeout is failed, with why', async () => {
    const { code, result } = await migrateWith(
      () => ({ runMs: Infinity, sigtermExitCode: 0, logs: ['Applying 0001_auth'] }),
      60,
    );
    expect(code).toBe(ExitCode.migrationFailed);
    expect(result).toMatchObject({ status: 'failed', exitCode: 0 });
    expect(result.reason).toBe(
      'timed out after 60s and was stopped; it exited 0 after the stop, which is not counted as applied',
    );
  });

  it('non-essential sidecars do not decide: their exits and reasons are ignored', async () => {
    const { code, result } = await migrateWith((script) => ({
      ...script,
      sidecars: {
        'log-router': { exitCode: 1, reason: 'OutOfMemoryError: sidecar killed' },
        'xray-daemon': {},
      },
    }));
    expect(code).toBe(ExitCode.ok);
    expect(result).toMatchObject({ status: 'applied', exitCode: 0, applied: MIGRATIONS });
    expect(result.reason).toBeUndefined();
  });

  it('a task that stops with no stop code, no reason and a null container reason says so in words', async () => {
    const { code, result } = await migrateWith(() => ({
      failToStart: { stopCode: '', stoppedReason: '' },
    }));
    expect(code).toBe(ExitCode.migrationFailed);
    expect(result).toMatchObject({ status: 'failed', exitCode: null });
    expect(result.reason).toBe(
      'the task stopped without an exit code and ECS gave no reason (no stop code, stopped reason or container reason)',
    );
    expect(result.reason).not.toMatch(/null|undefined|\[/);
  });

  it('a task that stays PROVISIONING until the timeout is stopped and reported as never started', async () => {
    const { code, result } = await migrateWith(() => ({ provisioningMs: Infinity }), 60);
    expect(code).toBe(ExitCode.migrationFailed);
    expect(result).toMatchObject({ status: 'failed', exitCode: null, applied: [] });
    expect(result.reason).toBe(
      'timed out after 60s still PROVISIONING (it never started) and was stopped',
    );
    expect(h.fake.calls.filter((c) => c.method === 'stopTask')).toHaveLength(1);
  });
});
