/**
 * `berth logs --follow --provider aws` against the in-memory AWS fake: from the local record
 * of a task this machine ran, and from CloudWatch for one run elsewhere; both end once ECS
 * reports the task stopped, with the whole log.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { logsCommand } from '../../src/cli/commands/logs.js';
import { migrateCommand } from '../../src/cli/commands/migrate.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { DatabaseResult } from '../../src/fleet/types.js';
import { awsFleetHarness, type AwsFleetHarness } from '../support/aws-fleet.js';

let h: AwsFleetHarness;
afterEach(() => h.cleanup());

describe('berth logs --follow --provider aws', () => {
  it('follows a task from its local record, then from CloudWatch, and ends when it stopped', async () => {
    h = await awsFleetHarness();
    expect(await migrateCommand(h.ctx(), { database: ['fintech_experiment'] }, h.fleetDeps)).toBe(
      ExitCode.ok,
    );
    const summary = h.jsonLines<{ type: string; databases?: DatabaseResult[] }>().at(-1);
    const taskId = summary?.databases?.[0]?.taskId ?? '';
    expect(taskId).not.toBe('');

    expect(await logsCommand(h.ctx(), taskId, {}, h.fleetDeps)).toBe(ExitCode.ok);
    const expected = h.json<{ lines: string[] }>().lines;
    expect(expected.at(-1)).toBe('Applied 3 migration(s) to fintech_experiment');

    const follow = async () => {
      expect(await logsCommand(h.ctx(), taskId, { follow: true }, h.fleetDeps)).toBe(ExitCode.ok);
      const lines = h.jsonLines<{ line?: string; footer?: string }>();
      return {
        lines: lines.filter((l) => l.line !== undefined).map((l) => l.line),
        footer: lines.at(-1)?.footer,
      };
    };
    const fromRecord = await follow();
    expect(fromRecord.lines).toEqual(expected);
    expect(fromRecord.footer).toMatch(/: STOPPED, exit code 0$/);

    // A CI runner's task: no .berth here, the CloudWatch stream instead.
    await rm(path.join(h.dir, '.berth'), { recursive: true, force: true });
    const fromCloudWatch = await follow();
    expect(fromCloudWatch.lines).toEqual(expected);
    expect(fromCloudWatch.footer).toMatch(/: STOPPED, exit code 0$/);
  });
});
