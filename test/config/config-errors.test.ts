/**
 * The malformed-config table, in-process: loadConfig on a real file, no child process per
 * case. Each case must name the field, map to exit 3 and create nothing (loadConfig never
 * creates anything; the end-to-end cases in test/integration/config-errors.test.ts check
 * that the CLI stops there).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import type { ConfigIssue } from '../../src/config/rules.js';
import { isBerthError, type BerthError } from '../../src/core/errors.js';
import { exitCodeForError } from '../../src/core/exit-codes.js';
import { silentReporter } from '../../src/core/events.js';
import { migrateOptions } from '../../src/fleet/fleet-options.js';
import { taskSecrets } from '../../src/config/schema.js';
import { migrateCommandOf, PRESETS } from '../../src/migrations/presets.js';
import { VALID } from './valid-config.js';

/** [name, file text, field path the error must name] */
const CASES: [string, string, string][] = [
  ['invalid YAML', 'app: [startupwebapp\n', 'app'],
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
  [
    'no command with tool: custom',
    VALID.replace('  command: [node, dist/migrate.js]\n', ''),
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
    'a password in task environment',
    VALID.replace('  command:', '  environment: { PGPASSWORD: hunter2pw }\n  command:'),
    'task.environment.PGPASSWORD',
  ],
  [
    'an API token in task environment',
    VALID.replace('  command:', '  environment: { STRIPE_API_KEY: sk-abc }\n  command:'),
    'task.environment.STRIPE_API_KEY',
  ],
  [
    'a URL with a password in task environment',
    VALID.replace(
      '  command:',
      '  environment: { CACHE_URL: "redis://app:pw-in-url@127.0.0.1:6379" }\n  command:',
    ),
    'task.environment.CACHE_URL',
  ],
  [
    'task.secrets naming a variable berth sets',
    VALID.replace('  command:', '  secrets: { DATABASE_PASSWORD: app/db }\n  command:'),
    'task.secrets.DATABASE_PASSWORD',
  ],
  [
    'task.secrets and task.environment setting one variable',
    VALID.replace(
      '  command:',
      '  environment: { APP_MODE: x }\n  secrets: { APP_MODE: app/mode }\n  command:',
    ),
    'task.secrets.APP_MODE',
  ],
  [
    'task.secrets entry with an unknown key',
    VALID.replace(
      '  command:',
      '  secrets: { SIGNING_KEY: { secret: app/s, jsonKey: k } }\n  command:',
    ),
    'task.secrets.SIGNING_KEY.jsonKey',
  ],
  [
    'task.secrets kmsKey not an ARN',
    VALID.replace(
      '  command:',
      '  secrets: { SIGNING_KEY: { secret: app/s, kmsKey: my-key } }\n  command:',
    ),
    'task.secrets.SIGNING_KEY.kmsKey',
  ],
  [
    'task.secrets parameter with a JSON key',
    VALID.replace(
      '  command:',
      '  secrets: { API_TOKEN: { parameter: /app/api-token, key: token } }\n  command:',
    ),
    'task.secrets.API_TOKEN.key',
  ],
  [
    'task.secrets entry naming a secret and a parameter',
    VALID.replace(
      '  command:',
      '  secrets: { API_TOKEN: { secret: app/s, parameter: /app/api-token } }\n  command:',
    ),
    'task.secrets.API_TOKEN',
  ],
  [
    'task.secrets parameter with a version',
    VALID.replace(
      '  command:',
      '  secrets: { API_TOKEN: { parameter: "/app/api-token:3" } }\n  command:',
    ),
    'task.secrets.API_TOKEN.parameter',
  ],
  [
    'task.secrets parameter path without its leading slash',
    VALID.replace(
      '  command:',
      '  secrets: { API_TOKEN: { parameter: app/api-token } }\n  command:',
    ),
    'task.secrets.API_TOKEN.parameter',
  ],
  [
    'task.secrets parameter kmsKey not an ARN',
    VALID.replace(
      '  command:',
      '  secrets: { API_TOKEN: { parameter: /app/api-token, kmsKey: my-key } }\n  command:',
    ),
    'task.secrets.API_TOKEN.kmsKey',
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
    'app',
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
  [
    'a migration tool berth has no preset for',
    VALID.replace(
      'migrations: { directory: migrations }',
      'migrations: { directory: migrations, tool: liquibase }',
    ),
    'migrations.tool',
  ],
  // Added with issue 11: system databases, YAML problems with line, column and key.
  [
    'template1 as a tenant',
    VALID.replace('fintech_experiment]', 'template1]'),
    'database.tenants.2',
  ],
  [
    'postgres as a tenant',
    VALID.replace('[startupwebapp_prod,', '[postgres,'),
    'database.tenants.0',
  ],
  [
    'template0 as a tenant',
    VALID.replace('fintech_experiment]', 'fintech_experiment, template0]'),
    'database.tenants.3',
  ],
  ['a tab for indentation', VALID.replace('  family:', '\tfamily:'), 'task'],
  [
    'duplicate nested key',
    VALID.replace('  expectedTables: 57', '  expectedTables: 57\n  expectedTables: 58'),
    'database.expectedTables',
  ],
  [
    'unclosed quote',
    VALID.replace('family: startupwebapp', 'family: "startupwebapp'),
    'task.family',
  ],
  ['concurrency above the limit', `${VALID}fleet: { concurrency: 257 }\n`, 'fleet.concurrency'],
  ['batch size zero', `${VALID}fleet: { batchSize: 0 }\n`, 'fleet.batchSize'],
  // Messages that say what was meant: did you mean, the tenants forms, where a field would go.
  [
    'a misspelled task key',
    VALID.replace('  command:', '  timeoutSecond: 900\n  command:'),
    'task.timeoutSecond',
  ],
  [
    'tenants as a mapping with a misspelled key',
    VALID.replace(
      '[startupwebapp_prod, healthtech_experiment, fintech_experiment]',
      '{ fiel: tenants.txt }',
    ),
    'database.tenants',
  ],
  [
    'a required field left out',
    VALID.replace('  family: startupwebapp-migration-task\n', ''),
    'task.family',
  ],
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-config-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function loadError(text: string, name = 'case'): Promise<BerthError> {
  const file = path.join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
  await writeFile(file, text);
  try {
    await loadConfig(file);
  } catch (error) {
    if (isBerthError(error)) return error;
    throw error;
  }
  throw new Error('the config loaded');
}

function issues(error: BerthError): ConfigIssue[] {
  return (error.details?.issues as ConfigIssue[] | undefined) ?? [];
}

describe('malformed berth.yaml', () => {
  it('takes names that only mention a secret word for plain settings', async () => {
    const file = path.join(dir, 'plain-env.yaml');
    await writeFile(
      file,
      VALID.replace(
        '  command:',
        '  environment: { PASSWORD_MIN_LENGTH: "12", TOKEN_TTL: "60", BYPASS_CACHE: "1", DATABASE_URL_SCHEME: postgres }\n  command:',
      ),
    );
    const { config } = await loadConfig(file);
    expect(Object.keys(config.task.environment)).toHaveLength(4);
  });

  it('has at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it('the valid config loads', async () => {
    const file = path.join(dir, 'valid.yaml');
    await writeFile(file, VALID);
    await expect(loadConfig(file)).resolves.toMatchObject({ config: { app: 'startupwebapp' } });
  });

  it("a preset's migrate command is the default: task.command may be left out", async () => {
    const file = path.join(dir, 'preset.yaml');
    await writeFile(
      file,
      VALID.replace('  command: [node, dist/migrate.js]\n', '').replace(
        'migrations: { directory: migrations }',
        'migrations: { tool: django }',
      ),
    );
    const { config } = await loadConfig(file);
    expect(config.task.command).toBeUndefined();
    expect(migrateCommandOf(config)).toEqual(PRESETS.django.migrateCommand);
    // What a migrate run's tasks are given.
    const options = migrateOptions(config, dir, { databases: ['a'], reporter: silentReporter });
    expect(options.command).toEqual(PRESETS.django.migrateCommand);
  });

  it.each(CASES)(
    '%s: names the field and is a config error (exit 3)',
    async (name, text, field) => {
      const error = await loadError(text, name);
      expect(error.code).toBe('CONFIG_INVALID');
      expect(exitCodeForError(error.code)).toBe(3);
      expect(issues(error).map((i) => i.path)).toContain(field);
      expect(error.message).toContain(field);
    },
  );

  it('says what was meant: the setting, the tenants forms, where a missing field goes', async () => {
    const messages = async (name: string) => {
      const [, text] = CASES.find(([n]) => n === name) ?? [];
      return (await loadError(text ?? '', name)).message;
    };
    expect(await messages('a misspelled task key')).toContain(
      'task.timeoutSecond (line 9): unknown setting; did you mean timeoutSeconds?',
    );
    expect(await messages('tenants as a mapping with a misspelled key')).toContain(
      'database.tenants (line 12): must be a list of database names, { file: PATH } or { query: SQL, database: NAME }; fiel: did you mean file?',
    );
    expect(await messages('a required field left out')).toContain(
      'task.family (not set; add family: under task, line 7): required',
    );
    expect(await messages('task.secrets parameter with a JSON key')).toContain(
      'task.secrets.API_TOKEN.key (line 9): a Parameter Store parameter has no JSON key: the variable gets its whole value (key goes with secret)',
    );
    expect(await messages('task.secrets entry naming a secret and a parameter')).toContain(
      'task.secrets.API_TOKEN (line 9): must be a Secrets Manager secret (its name or ARN), { secret, key, kmsKey } or { parameter, kmsKey } (a Parameter Store parameter); set secret or parameter, not both',
    );
    expect(await messages('task.secrets parameter with a version')).toContain(
      'must be a Parameter Store name (/path/name) or its ARN',
    );
  });

  it('takes a Parameter Store parameter by name or ARN, beside the Secrets Manager forms', async () => {
    const arn = 'arn:aws:ssm:us-east-1:123456789012:parameter/app/flags';
    const file = path.join(dir, 'parameters.yaml');
    await writeFile(
      file,
      VALID.replace(
        '  command:',
        [
          '  secrets:',
          '    API_TOKEN: { parameter: /app/api-token }',
          `    FLAGS: { parameter: "${arn}", kmsKey: "arn:aws:kms:us-east-1:123456789012:key/k" }`,
          '    PLAIN: single-level',
          '    SIGNING_KEY: app/signing',
          '    STRIPE: { secret: app/pay, key: stripe }',
          '  command:',
        ].join('\n'),
      ),
    );
    const { config } = await loadConfig(file);
    expect(taskSecrets(config)).toEqual([
      { source: 'ssm', name: 'API_TOKEN', parameter: '/app/api-token' },
      {
        source: 'ssm',
        name: 'FLAGS',
        parameter: arn,
        kmsKey: 'arn:aws:kms:us-east-1:123456789012:key/k',
      },
      { source: 'secretsmanager', name: 'PLAIN', secret: 'single-level' },
      { source: 'secretsmanager', name: 'SIGNING_KEY', secret: 'app/signing' },
      { source: 'secretsmanager', name: 'STRIPE', secret: 'app/pay', key: 'stripe' },
    ]);
  });
});
