/**
 * The presets' `sh -c` commands hand the connection berth gives a task (DATABASE_NAME and the
 * secret's DATABASE_HOST/PORT/USER/PASSWORD) to each tool the way it reads it, whatever the
 * password holds. The tools are stand-ins on PATH that print what they received; the real
 * ones run in test/integration/tools.test.ts where they install.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PRESETS } from '../../src/migrations/presets.js';
import { tempDir } from '../support/temp-dir.js';

const PASSWORD = 'p@ss/w#rd%?x:y\'z "q" $HOME';
const TASK_ENV = {
  DATABASE_NAME: 'tenant_a',
  DATABASE_USER: 'app_user',
  DATABASE_PASSWORD: PASSWORD,
  DATABASE_HOST: 'db.internal',
  DATABASE_PORT: '6543',
};

interface Seen {
  argv: string[];
  env: Record<string, string | undefined>;
}

let dir: string;

/** A stand-in executable that prints its arguments and the connection variables as JSON. */
const STAND_IN = `#!/bin/sh
exec node -e 'const k = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"];
console.log(JSON.stringify({ argv: process.argv.slice(1), env: Object.fromEntries(k.map((n) => [n, process.env[n]])) }));
process.exit(Number(process.env.STAND_IN_EXIT ?? 0));' -- "$@"
`;

beforeAll(async () => {
  dir = await tempDir('berth-preset-commands-');
  await mkdir(path.join(dir, 'bin'));
  for (const tool of ['npx', 'dbmate', 'migrate', 'bin/rails']) {
    const file = path.join(dir, tool === 'bin/rails' ? tool : `path/${tool}`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, STAND_IN);
    await chmod(file, 0o755);
  }
});

function run(command: readonly string[], extra: Record<string, string> = {}) {
  const [program = '', ...args] = command;
  const result = spawnSync(program, args, {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: `${path.join(dir, 'path')}:${process.env.PATH ?? ''}`, ...TASK_ENV, ...extra },
  });
  return { ...result, seen: JSON.parse(result.stdout.split('\n')[0] ?? '{}') as Seen };
}

describe('preset commands and the task connection', () => {
  it.each(['dbmate', 'golang-migrate'] as const)(
    '%s: a URL without the password, which goes in PGPASSWORD (lib/pq); sslmode from PGSSLMODE',
    (tool) => {
      const { status, seen } = run(PRESETS[tool].migrateCommand);
      expect(status).toBe(0);
      const raw =
        tool === 'dbmate' ? seen.env.DATABASE_URL : seen.argv[seen.argv.indexOf('-database') + 1];
      const url = new URL(raw ?? '');
      expect([url.username, url.password, url.hostname, url.port, url.pathname]).toEqual([
        'app_user',
        '',
        'db.internal',
        '6543',
        '/tenant_a',
      ]);
      expect(url.searchParams.get('sslmode')).toBe('disable');
      expect(seen.env.PGPASSWORD).toBe(PASSWORD);
      const tls = run(PRESETS[tool].migrateCommand, { PGSSLMODE: 'require' });
      const rawTls =
        tool === 'dbmate'
          ? tls.seen.env.DATABASE_URL
          : tls.seen.argv[tls.seen.argv.indexOf('-database') + 1];
      expect(new URL(rawTls ?? '').searchParams.get('sslmode')).toBe('require');
    },
  );

  it('dbmate: migrate (never creates a database), no schema dump; status --exit-code to check', () => {
    expect(run(PRESETS.dbmate.migrateCommand).seen.argv).toEqual(['--no-dump-schema', 'migrate']);
    expect(run(PRESETS.dbmate.checkCommand ?? []).seen.argv).toEqual(['status', '--exit-code']);
  });

  it('prisma: DATABASE_URL with every part percent-encoded', () => {
    for (const command of [PRESETS.prisma.migrateCommand, PRESETS.prisma.checkCommand ?? []]) {
      const { status, seen } = run(command);
      expect(status).toBe(0);
      expect(seen.argv.slice(0, 2)).toEqual(['prisma', 'migrate']);
      const url = new URL(seen.env.DATABASE_URL ?? '');
      expect(url.protocol).toBe('postgresql:');
      expect(decodeURIComponent(url.password)).toBe(PASSWORD);
      expect([url.username, url.hostname, url.port, url.pathname]).toEqual([
        'app_user',
        'db.internal',
        '6543',
        '/tenant_a',
      ]);
    }
  });

  it("node-pg-migrate: libpq's PG* variables, which node-postgres reads", () => {
    const { status, seen } = run(PRESETS['node-pg-migrate'].migrateCommand);
    expect(status).toBe(0);
    expect(seen.argv).toEqual(['node-pg-migrate', 'up']);
    expect(seen.env).toMatchObject({
      PGHOST: 'db.internal',
      PGPORT: '6543',
      PGUSER: 'app_user',
      PGPASSWORD: PASSWORD,
      PGDATABASE: 'tenant_a',
    });
  });

  it('rails: the check says so when the rake task passes (it prints nothing) and fails when it fails', () => {
    const check = PRESETS.rails.checkCommand ?? [];
    const ok = run(check);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('no pending migrations');
    const pending = run(check, { STAND_IN_EXIT: '1' });
    expect(pending.status).toBe(1);
    expect(pending.stdout).not.toContain('no pending migrations');
  });
});
