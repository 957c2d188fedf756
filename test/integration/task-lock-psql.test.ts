/**
 * The task's lock wrapper (migrations.taskLock: psql, src/fleet/batch-script.ts) run for real:
 * the generated `sh -c` script with the system's psql against an embedded PostgreSQL. Two
 * tasks for the same database at once: one runs the migrate command under the advisory
 * lock, the other reports `::berth-locked` and exit 75 without running it; the lock is gone
 * once the first ends.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { BatchLogParser, batchCommand } from '../../src/fleet/batch-script.js';
import type { ServerConnection } from '../../src/providers/local/postgres-server.js';
import { LocalPostgres, clientConfig } from '../../src/providers/local/postgres-server.js';
import { statePaths } from '../../src/state/paths.js';

let dir: string;
let server: LocalPostgres;
let secret: ServerConnection;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-tasklock-'));
  server = new LocalPostgres({ paths: statePaths(path.join(dir, '.berth')), maxConnections: 20 });
  secret = await server.ensureRunning();
  const admin = new pg.Client(clientConfig(secret, 'postgres'));
  await admin.connect();
  await admin.query('CREATE DATABASE tenant_a');
  await admin.end();
});

afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function runTask(command: string[]): Promise<{ code: number | null; lines: string[] }> {
  const [program, ...args] = batchCommand(command, ['tenant_a'], false, { lock: true });
  return new Promise((resolve) => {
    const child = spawn(program ?? 'sh', args, {
      env: {
        PATH: process.env.PATH,
        // What the task definition injects from the secret.
        DATABASE_HOST: secret.host,
        DATABASE_PORT: String(secret.port),
        DATABASE_USER: secret.username,
        DATABASE_PASSWORD: secret.password,
      },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, lines: out.split('\n').filter(Boolean) }));
  });
}

const sections = (lines: string[]) => {
  const parser = new BatchLogParser(20);
  for (const line of lines) parser.line(line);
  return parser.section('tenant_a');
};

describe('the task lock wrapper with psql', () => {
  it('lets one of two simultaneous tasks migrate; the other reports locked, exit 75', async () => {
    const migrate = ['sh', '-c', 'echo "migrating $DATABASE_NAME"; sleep 2; echo done'];
    const [a, b] = await Promise.all([runTask(migrate), runTask(migrate)]);
    const results = [sections(a.lines), sections(b.lines)];
    const ran = results.filter((s) => s?.exitCode === 0);
    const locked = results.filter((s) => s?.locked);
    expect(ran).toHaveLength(1);
    expect(ran[0]?.tail).toEqual(['migrating tenant_a', 'done']);
    expect(locked).toHaveLength(1);
    expect(locked[0]?.exitCode).toBe(75);
    expect(locked[0]?.tail).toEqual([]);

    // Released with the session: the next task migrates, and its exit code is the command's.
    const next = await runTask(['sh', '-c', 'echo again; exit 3']);
    expect(sections(next.lines)).toMatchObject({ exitCode: 3, tail: ['again'] });
  });
});
