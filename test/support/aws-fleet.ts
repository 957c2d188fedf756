/**
 * Fleet commands (migrate, verify, logs, tasks, pipeline) with the aws provider, in-process,
 * against the in-memory AWS fake: the stack is up, an image is in ECR, and every ECS task is
 * scripted by FakeTenants — a fake RDS with one migration history per tenant database that
 * migration, check and probe tasks read and change when their container "runs". Time is the
 * fake's clock, moved by the runtime's injected sleep. Nothing here can reach real AWS.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CommandDeps as AwsFleetDeps } from '../../src/cli/context.js';
import type { Exec } from '../../src/core/exec.js';
import type {
  AwsFake,
  FakeTaskInfo,
  FakeTaskScript,
} from '../../src/providers/aws/fake/aws-fake.js';
import { SAMPLE_CONFIG_YAML, sampleConfig } from '../../src/providers/aws/fake/sample-stack.js';
import { upStack } from '../../src/providers/aws/stack/stack.js';
import type { CatalogTables } from '../../src/migrations/fingerprint.js';
import { awsCliHarness, type AwsCliHarness } from './aws-cli.js';

export const MIGRATIONS = ['0001_auth', '0002_catalog', '0003_orders'];
/** 3 migrations × 19 tables = the sample config's 57 (history table included in the first). */
export const TABLES_PER_MIGRATION = 19;
export const DATABASES = ['startupwebapp_prod', 'healthtech_experiment', 'fintech_experiment'];
export const GIT_SHA = 'abc1234';

/** How a tenant's migration task behaves. */
export type Behaviour =
  | { kind: 'ok' }
  /** Applies `applyFirst` migrations, prints an error and exits `exitCode`. */
  | { kind: 'fail'; exitCode: number; applyFirst?: number }
  /** The image cannot be pulled: PENDING → STOPPED, no exit code. */
  | { kind: 'cannot-pull' }
  /** The execution role cannot read the secret: PENDING → STOPPED, no exit code. */
  | { kind: 'secret-unreadable' }
  /** Prints a line and never finishes. */
  /** Runs until stopped; `silent`: it never writes a line, so no log stream appears. */
  | { kind: 'stuck'; silent?: boolean };

export const CANNOT_PULL =
  'CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-backend:abc1234: not found';
export const SECRET_UNREADABLE =
  'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: AccessDeniedException';

/** A fake RDS: each tenant's applied migrations, changed only by the tasks that "run". */
export class FakeTenants {
  readonly applied = new Map<string, string[]>();
  readonly behaviour = new Map<string, Behaviour>();
  /** Databases that do not exist on the server. */
  readonly missing = new Set<string>();
  /** Lines per applied migration (to make logs long enough to page). */
  extraLines = 0;
  /** The fake's clock, for the advisory locks tasks take (migrations.taskLock). */
  clock: () => number = () => 0;
  /** Each database's migration lock: held by a task's session until this time. */
  readonly locks = new Map<string, number>();
  /** How many times each `database/migration` was applied (twice would be a race lost). */
  readonly applyCount = new Map<string, number>();
  /** Each database's catalog (CATALOG_SQL's result), printed when berth asks for the schema. */
  readonly schemas = new Map<string, CatalogTables>();
  /** The probe ignores BERTH_PROBE_SCHEMA (an older probe command). */
  probeWithoutSchema = false;
  /** How the probe prints a schema: one `::berth-schema` line per table (default), or inline. */
  schemaLines: 'per-table' | 'inline' = 'per-table';
  /** Table lines the log loses (a line a log driver cut short), per database. */
  readonly lostTableLines = new Map<string, number>();

  constructor(readonly known: readonly string[] = MIGRATIONS) {}

  tables(database: string): number {
    return (this.applied.get(database) ?? []).length * TABLES_PER_MIGRATION;
  }

  pending(database: string): string[] {
    const done = new Set(this.applied.get(database) ?? []);
    return this.known.filter((m) => !done.has(m));
  }

  /** The script for any task berth (or a test) starts: probe, check, batch or migrate. */
  script(task: FakeTaskInfo): FakeTaskScript {
    const names = task.overrideEnvironment.DATABASE_NAMES;
    if (names !== undefined) {
      return {
        run: () => ({
          logs: [
            'probe starting',
            ...names
              .split(',')
              .flatMap((d) =>
                this.probeLines(d, task.overrideEnvironment.BERTH_PROBE_SCHEMA === '1'),
              ),
          ],
        }),
      };
    }
    if (task.command.includes('--check')) {
      const db = task.environment.DATABASE_NAME ?? '';
      return {
        run: () => {
          const pending = this.pending(db);
          return pending.length
            ? { exitCode: 1, logs: pending.map((m) => `Pending: ${m}`) }
            : { exitCode: 0, logs: [`No pending migrations: ${db} is up to date`] };
        },
      };
    }
    if (task.command[0] === 'sh' && task.command[1] === '-c') {
      const databases = task.command.slice(4);
      const stopOnError = (task.command[2] ?? '').includes('|| exit');
      // The task takes each database's advisory lock itself (batch-script.ts).
      const taskLock = (task.command[2] ?? '').includes('pg_try_advisory_lock');
      const runMs = 2000;
      return {
        runMs,
        run: () => {
          const logs: string[] = [];
          let exitCode = 0;
          for (const db of databases) {
            logs.push(`::berth-begin ${db}`);
            if (taskLock) {
              const now = this.clock();
              if ((this.locks.get(db) ?? 0) > now) {
                logs.push('::berth-locked', `::berth-end ${db} 75`);
                continue;
              }
              // Held by this task's psql session until the container exits.
              this.locks.set(db, now + runMs);
            }
            const { lines, code } = this.migrate(db);
            logs.push(...lines, `::berth-end ${db} ${code}`);
            if (code !== 0 && stopOnError) {
              exitCode = code;
              break;
            }
          }
          return { exitCode, logs };
        },
      };
    }
    const db = task.environment.DATABASE_NAME ?? '';
    const behaviour = this.behaviour.get(db) ?? { kind: 'ok' };
    switch (behaviour.kind) {
      case 'cannot-pull':
        return { failToStart: { stoppedReason: CANNOT_PULL, containerReason: CANNOT_PULL } };
      case 'secret-unreadable':
        return { failToStart: { stoppedReason: SECRET_UNREADABLE } };
      case 'stuck':
        return {
          runMs: Infinity,
          logs: behaviour.silent ? [] : [`Applying ${this.pending(db)[0] ?? '?'}`],
        };
      default:
        return {
          run: () => {
            const { lines, code } = this.migrate(db);
            return { exitCode: code, logs: lines };
          },
        };
    }
  }

  /** The probe's lines for a database: its `::berth-probe` line, then its schema's table lines. */
  probeLines(database: string, withSchema = false): string[] {
    if (this.missing.has(database))
      return [`::berth-probe ${JSON.stringify({ database, exists: false })}`];
    const schema = withSchema && !this.probeWithoutSchema ? this.schemas.get(database) : undefined;
    const inline = this.schemaLines === 'inline';
    const line = `::berth-probe ${JSON.stringify({
      database,
      exists: true,
      tables: this.tables(database),
      applied: this.applied.get(database) ?? [],
      ...(schema && inline ? { schema } : {}),
      ...(schema && !inline ? { schemaTables: schema.length } : {}),
    })}`;
    if (!schema || inline) return [line];
    const lost = this.lostTableLines.get(database) ?? 0;
    return [
      line,
      ...schema.slice(lost).map((table) => `::berth-schema ${JSON.stringify({ database, table })}`),
    ];
  }

  /** What node dist/migrate.js would print and do. */
  private migrate(db: string): { lines: string[]; code: number } {
    if (this.missing.has(db)) return { lines: [`Error: database "${db}" does not exist`], code: 1 };
    const behaviour = this.behaviour.get(db) ?? { kind: 'ok' };
    const pending = this.pending(db);
    const lines: string[] = [];
    const limit = behaviour.kind === 'fail' ? (behaviour.applyFirst ?? 0) : pending.length;
    const done = [...(this.applied.get(db) ?? [])];
    for (const name of pending.slice(0, limit)) {
      lines.push(`Applying ${name}`);
      this.applyCount.set(`${db}/${name}`, (this.applyCount.get(`${db}/${name}`) ?? 0) + 1);
      for (let i = 1; i <= this.extraLines; i++) lines.push(`  ${name}: statement ${i}`);
      done.push(name);
    }
    this.applied.set(db, done);
    if (behaviour.kind === 'fail') {
      const failing = pending[limit];
      if (failing) lines.push(`Applying ${failing}`);
      lines.push(`Error: ${failing ?? 'migration'} failed: column "x" already exists`);
      return { lines, code: behaviour.exitCode };
    }
    lines.push(
      pending.length === 0
        ? `No migrations to apply: ${db} is up to date`
        : `Applied ${pending.length} migration(s) to ${db}`,
    );
    return { lines, code: 0 };
  }
}

/** git answering for a clean checkout at GIT_SHA. */
export const fakeGit: Exec = (program, args) =>
  Promise.resolve(
    program === 'git' && args[0] === 'rev-parse'
      ? { code: 0, stdout: `${GIT_SHA}\n`, stderr: '' }
      : program === 'git' && args[0] === 'status'
        ? { code: 0, stdout: '', stderr: '' }
        : { code: 127, stdout: '', stderr: `${program}: not found` },
  );

export interface AwsFleetHarness extends AwsCliHarness {
  tenants: FakeTenants;
  fleetDeps: AwsFleetDeps;
  imageUri: string;
  /** Every stdout line parsed as JSON (NDJSON results, then the summary); clears the captures. */
  jsonLines<T = Record<string, unknown>>(): T[];
}

export interface AwsFleetHarnessOptions {
  /** task.probeCommand configured (default true). */
  probe?: boolean;
  checkCommand?: boolean;
  timeoutSeconds?: number;
  lockWaitSeconds?: number;
  /** migrations.taskLock: psql (the task takes the advisory lock). */
  taskLock?: boolean;
  /** Further edits to the sample YAML. */
  patch?: (yaml: string) => string;
  /** More prerequisites (e.g. what task.secrets names), created before the stack goes up. */
  seed?: (fake: AwsFake) => void;
  json?: boolean;
}

export async function awsFleetHarness(
  options: AwsFleetHarnessOptions = {},
): Promise<AwsFleetHarness> {
  const task = [
    '  command: [node, dist/migrate.js]',
    ...(options.checkCommand ? ['  checkCommand: [node, dist/migrate.js, --check]'] : []),
    ...(options.probe === false ? [] : ['  probeCommand: [node, dist/probe.js]']),
    `  timeoutSeconds: ${options.timeoutSeconds ?? 600}`,
  ].join('\n');
  let yaml = SAMPLE_CONFIG_YAML.replace('  command: [node, dist/migrate.js]', task).replace(
    'migrations:\n  directory: migrations',
    `migrations:\n  directory: migrations\n  lockWaitSeconds: ${options.lockWaitSeconds ?? 30}${options.taskLock ? '\n  taskLock: psql' : ''}`,
  );
  if (options.patch) yaml = options.patch(yaml);
  const config = sampleConfig(() => yaml);
  const base = await awsCliHarness({ config, json: options.json ?? true });
  const { fake } = base;
  options.seed?.(fake);
  await mkdir(path.join(base.dir, 'migrations'), { recursive: true });
  for (const name of MIGRATIONS)
    await writeFile(path.join(base.dir, 'migrations', `${name}.sql`), '-- fake\n');
  await upStack({ clients: fake.clients, config, region: config.aws.region });
  fake.pushImage(config.registry.name, GIT_SHA);
  fake.resetCalls();
  const tenants = new FakeTenants();
  tenants.clock = () => fake.clock.now();
  fake.onRunTask((t) => tenants.script(t));
  const repository = fake.repositories.get(config.registry.name)?.repository;
  const harness = base as AwsFleetHarness;
  harness.tenants = tenants;
  harness.imageUri = `${repository?.uri ?? ''}:${GIT_SHA}`;
  harness.fleetDeps = {
    ...base.deps,
    clock: () => fake.clock.now(),
    sleep: async (ms) => {
      fake.clock.advance(ms);
      await new Promise((resolve) => setImmediate(resolve));
    },
    exec: fakeGit,
  };
  harness.jsonLines = <T>() => {
    const lines = base.stdout
      .text()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as T);
    base.stdout.clear();
    base.stderr.clear();
    return lines;
  };
  return harness;
}
