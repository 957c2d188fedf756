/**
 * The commented starter file `berth init` writes, every section explained. For a project whose
 * migration tool `detectProject` recognised, the task commands and the migrations section come
 * from the tool's preset and nothing is counted by hand; otherwise the seed's stack.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { MigrationTool } from './schema.js';

export interface DetectedProject {
  tool: Exclude<MigrationTool, 'custom'>;
  /** The file that gave it away, relative to the project directory. */
  evidence: string;
}

/** First match wins: the files each tool's projects have. */
const DETECTORS: readonly DetectedProject[] = [
  { tool: 'django', evidence: 'manage.py' },
  { tool: 'alembic', evidence: 'alembic.ini' },
  { tool: 'prisma', evidence: 'prisma/schema.prisma' },
  { tool: 'rails', evidence: 'db/migrate' },
  { tool: 'flyway', evidence: 'flyway.conf' },
];

export async function detectProject(dir: string): Promise<DetectedProject | undefined> {
  for (const detector of DETECTORS) {
    const found = await access(path.join(dir, detector.evidence)).then(
      () => true,
      () => false,
    );
    if (found) return detector;
  }
  return undefined;
}

/** What a detected tool's starter says in `task` and `migrations`. */
const TOOL_SECTIONS: Record<
  DetectedProject['tool'],
  { task: string; migrations: string } | undefined
> = {
  django: {
    task: `  command: [python, manage.py, migrate, --noinput]
  checkCommand: [python, manage.py, migrate, --check]   # exits 1 while migrations are pending
  # environment: { DJANGO_SETTINGS_MODULE: mysite.settings }
  # Batch mode: one Python process migrates a whole batch (fleet.batchSize, e.g. 25) instead of
  # one per tenant. Install the command first: \`berth snippet django --app APP\`.
  # batchCommand: [python, manage.py, berth_migrate]`,
    migrations: `migrations:
  tool: django           # history in django_migrations (app, name); see README "Migration tools"
  # berth learns the code's migrations by running \`python manage.py showmigrations --plan\` once
  # per run (never once per tenant), so up-to-date tenants start no process at all.
  # listCommand: [python3, manage.py, showmigrations, --plan]`,
  },
  alembic: {
    task: `  command: [alembic, upgrade, heads]`,
    migrations: `migrations:
  tool: alembic          # history in alembic_version; pending is known only for a linear history`,
  },
  prisma: {
    task: `  command: [npx, prisma, migrate, deploy]
  checkCommand: [npx, prisma, migrate, status]`,
    migrations: `migrations:
  tool: prisma           # history in _prisma_migrations; migrations in prisma/migrations`,
  },
  rails: {
    task: `  command: [bin/rails, db:migrate]
  checkCommand: [bin/rails, db:abort_if_pending_migrations]`,
    migrations: `migrations:
  tool: rails            # history in schema_migrations; migrations in db/migrate`,
  },
  flyway: {
    task: `  command: [flyway, migrate]
  checkCommand: [flyway, validate]`,
    migrations: `migrations:
  tool: flyway           # history in flyway_schema_history; migrations in sql/
  # directory: db/migration`,
  },
  'golang-migrate': undefined,
  dbmate: undefined,
  knex: undefined,
  sequelize: undefined,
  typeorm: undefined,
  'node-pg-migrate': undefined,
};

/**
 * `schema`: where editors find the JSON Schema, relative to berth.yaml (the installed
 * package's `schema/berth.schema.json`); without it the starter names none.
 */
export function starterConfig(
  app = 'startupwebapp',
  project?: DetectedProject,
  schema?: string,
): string {
  const sections = project ? TOOL_SECTIONS[project.tool] : undefined;
  const text = sections ? toolStarter(app, project?.evidence ?? '', sections) : seedStarter(app);
  const line = schema ? `# yaml-language-server: $schema=${schema}\n` : '';
  return text.replace('version: 1\n', `${line}version: 1\n`);
}

function seedStarter(app: string): string {
  return `# berth.yaml — one stack, its tenant databases and how to migrate them.
# Full reference: README.md "Config reference". Check it with \`berth config validate\`.
version: 1
app: ${app}              # stack name: tags, outputs, confirmation prompts
provider: local          # local (embedded PostgreSQL 16) or aws; --provider overrides
tags:                    # on every AWS resource (berth adds managed-by=berth and stack)
  Environment: Production
  Application: StartupWebApp

aws:
  region: us-east-1
  # profile: my-profile  # or AWS_PROFILE / --profile
  # endpoint: http://127.0.0.1:4566   # an AWS-compatible emulator (or AWS_ENDPOINT_URL)

registry:                # ECR repository
  name: ${app}-backend
  scanOnPush: true
  encryption: AES256     # or KMS with kmsKey
  keepImages: 10         # lifecycle policy
  # local: 127.0.0.1:5000  # registry the local provider pushes to

cluster:
  name: ${app}-cluster   # ECS cluster, Fargate capacity providers

logs:
  group: /ecs/${app}-migrations
  retentionDays: 7
  streamPrefix: migration

roles:
  execution: ecsTaskExecutionRole-${app}   # pulls the image, reads the secret, writes logs
  task: ecsTaskRole-${app}                 # the app's own permissions (none by default)

network:                 # prerequisites berth reads, never creates
  subnets: []            # private subnets for the tasks (required for aws)
  # backendSecurityGroup: sg-0123 or its Name tag
  # databaseSecurityGroup: sg-0456 or its Name tag

task:
  family: ${app}-migration-task
  cpu: 256               # 0.25 vCPU
  memory: 512            # MiB
  command: [python, manage.py, migrate]
  # checkCommand: [python, manage.py, migrate, --check]
  environment: {}
  timeoutSeconds: 600

database:
  secret:
    name: rds/${app}/multi-tenant/master   # JSON with username, password, host, port
  tenants:               # or { file: tenants.txt } or { query: "SELECT ...", database: postgres }
    - ${app.replace(/-/g, '_')}_prod
  expectedTables: 57

migrations:
  directory: migrations  # pending = files here not yet in the history table
  table: pgmigrations

fleet:
  concurrency: 3
  onError: stop          # or continue
  batchSize: 1
`;
}

function toolStarter(
  app: string,
  evidence: string,
  sections: { task: string; migrations: string },
): string {
  return `# berth.yaml — one stack, its tenant databases and how to migrate them.
# Written for this project (found ${evidence}). Full reference: README.md "Config reference".
# Check it with \`berth config validate\`.
version: 1
app: ${app}              # stack name: tags, outputs, confirmation prompts
provider: local          # local (embedded PostgreSQL 16) or aws; --provider overrides
tags:                    # on every AWS resource (berth adds managed-by=berth and stack)
  Application: ${app}

registry:
  name: ${app}-backend   # ECR repository
cluster:
  name: ${app}-cluster   # ECS cluster, Fargate capacity providers
logs:
  group: /ecs/${app}-migrations
roles:
  execution: ecsTaskExecutionRole-${app}   # pulls the image, reads the secret, writes logs
  task: ecsTaskRole-${app}                 # the app's own permissions (none by default)

task:
  family: ${app}-migration-task
${sections.task}

database:
  secret:
    name: rds/${app}/master   # JSON with username, password, host, port
  tenants:               # or { file: tenants.txt } or { query: "SELECT ...", database: postgres }
    - ${app.replace(/-/g, '_')}
  # expectedTables: N    # optional: verify then also checks the table count

${sections.migrations}
`;
}
