import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BERTH, collect } from '../support/project.js';
import { spawn } from 'node:child_process';

const VALID = `version: 1
app: startupwebapp
registry: { name: startupwebapp-backend }
cluster: { name: startupwebapp-cluster }
logs: { group: /ecs/startupwebapp-migrations, retentionDays: 7 }
roles: { execution: ecsTaskExecutionRole-startupwebapp, task: ecsTaskRole-startupwebapp }
task:
  family: startupwebapp-migration-task
  command: [node, dist/migrate.js]
database:
  secret: { name: rds/startupwebapp/multi-tenant/master }
  tenants: [startupwebapp_prod, healthtech_experiment, fintech_experiment]
  expectedTables: 57
migrations: { directory: migrations }
`;

/** [name, file text, field path the error must name] */
const CASES: [string, string, string][] = [
  ['invalid YAML', 'app: [startupwebapp\n', '(yaml)'],
  ['a list instead of a mapping', '- a\n- b\n', '(root)'],
  ['empty file', '', '(root)'],
  ['unknown top-level key', `${VALID}colour: blue\n`, 'colour'],
  [
    'unknown nested key (typo)',
    VALID.replace('retentionDays: 7', 'retentionDay: 7'),
    'logs.retentionDay',
  ],
  ['missing app', VALID.replace('app: startupwebapp\n', ''), 'app'],
  ['app with capitals', VALID.replace('app: startupwebapp', 'app: StartupWebApp'), 'app'],
  [
    'missing registry',
    VALID.replace('registry: { name: startupwebapp-backend }\n', ''),
    'registry',
  ],
  ['wrong type: cpu as text', VALID.replace('  command:', '  cpu: lots\n  command:'), 'task.cpu'],
  [
    'memory not offered by Fargate for 256 CPU',
    VALID.replace('  command:', '  cpu: 256\n  memory: 4096\n  command:'),
    'task.memory',
  ],
  [
    'retention CloudWatch does not accept',
    VALID.replace('retentionDays: 7', 'retentionDays: 8'),
    'logs.retentionDays',
  ],
  [
    'expectedTables negative',
    VALID.replace('expectedTables: 57', 'expectedTables: -3'),
    'database.expectedTables',
  ],
  [
    'expectedTables as string',
    VALID.replace('expectedTables: 57', 'expectedTables: "57"'),
    'database.expectedTables',
  ],
  [
    'missing expectedTables',
    VALID.replace('  expectedTables: 57\n', ''),
    'database.expectedTables',
  ],
  [
    'duplicate database',
    VALID.replace('fintech_experiment]', 'fintech_experiment, healthtech_experiment]'),
    'database.tenants.3',
  ],
  [
    'SQL injection in a database name',
    VALID.replace('fintech_experiment]', 'x"; drop database y]'),
    'database.tenants.2',
  ],
  [
    'database name with uppercase',
    VALID.replace('fintech_experiment]', 'Fintech]'),
    'database.tenants.2',
  ],
  [
    'database name too long',
    VALID.replace('fintech_experiment]', `${'a'.repeat(64)}]`),
    'database.tenants.2',
  ],
  [
    'empty tenant list',
    VALID.replace('[startupwebapp_prod, healthtech_experiment, fintech_experiment]', '[]'),
    'database.tenants',
  ],
  [
    'command as a string',
    VALID.replace('command: [node, dist/migrate.js]', 'command: node dist/migrate.js'),
    'task.command',
  ],
  [
    'empty command',
    VALID.replace('command: [node, dist/migrate.js]', 'command: []'),
    'task.command',
  ],
  ['provider not known', `${VALID}provider: gcp\n`, 'provider'],
  ['region malformed', `${VALID}aws: { region: useast }\n`, 'aws.region'],
  ['endpoint not a URL', `${VALID}aws: { endpoint: not a url }\n`, 'aws.endpoint'],
  ['subnet not an ID', `${VALID}network: { subnets: [my-subnet] }\n`, 'network.subnets.0'],
  [
    'secret in task environment',
    VALID.replace('  command:', '  environment: { DATABASE_PASSWORD: hunter2 }\n  command:'),
    'task.environment.DATABASE_PASSWORD',
  ],
  [
    'KMS without key',
    VALID.replace(
      'registry: { name: startupwebapp-backend }',
      'registry: { name: startupwebapp-backend, encryption: KMS }',
    ),
    'registry.kmsKey',
  ],
  [
    'duplicate YAML key',
    VALID.replace('app: startupwebapp', 'app: startupwebapp\napp: other'),
    '(yaml)',
  ],
  ['version 2', `${VALID}version: 2\n`.replace('version: 1\n', ''), 'version'],
  [
    'local registry off loopback',
    VALID.replace(
      'registry: { name: startupwebapp-backend }',
      'registry: { name: startupwebapp-backend, local: "10.0.0.5:5000" }',
    ),
    'registry.local',
  ],
  [
    'no way to see pending migrations',
    VALID.replace('migrations: { directory: migrations }\n', ''),
    'migrations.directory',
  ],
  ['concurrency zero', `${VALID}fleet: { concurrency: 0 }\n`, 'fleet.concurrency'],
];

describe('malformed berth.yaml', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'berth-config-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('has at least 20 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(CASES)('%s: names the field, exits 3 and touches nothing', async (name, text, field) => {
    const caseDir = path.join(dir, name.replace(/\W+/g, '-'));
    const { mkdir } = await import('node:fs/promises');
    await mkdir(caseDir, { recursive: true });
    await writeFile(path.join(caseDir, 'berth.yaml'), text);
    const run = await collect(
      spawn(process.execPath, [BERTH, 'migrate', '--all', '--json'], {
        cwd: caseDir,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(run.code).toBe(3);
    const { error } = JSON.parse(run.stdout) as {
      error: {
        code: string;
        message: string;
        details?: { issues: { path: string; line?: number }[] };
      };
    };
    expect(error.code).toBe('CONFIG_INVALID');
    const paths = error.details?.issues.map((i) => i.path) ?? [];
    expect(paths).toContain(field);
    expect(error.message).toContain(field);
    // Nothing was created: no state directory, no database server.
    expect(existsSync(path.join(caseDir, '.berth'))).toBe(false);
  });

  it('reports the line of the offending field', async () => {
    const caseDir = path.join(dir, 'line');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(caseDir, { recursive: true });
    await writeFile(
      path.join(caseDir, 'berth.yaml'),
      VALID.replace('retentionDays: 7', 'retentionDays: 8'),
    );
    const run = await collect(
      spawn(process.execPath, [BERTH, 'config', 'validate'], {
        cwd: caseDir,
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('logs.retentionDays (line 5)');
    expect(run.stderr).toContain('hint: fix the fields above; nothing was changed');
  });

  it('a missing config file says how to create one (exit 3)', async () => {
    const run = await collect(
      spawn(process.execPath, [BERTH, 'status'], {
        cwd: dir,
        env: process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('berth init');
  });
});
