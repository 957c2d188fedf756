/**
 * The commented starter file `berth init` writes, every section explained. `detectProject`
 * recognises the project's migration tool from its files; the starter then takes the tool's
 * commands and history from its preset (handed in as plain data by the CLI: config sits below
 * migrations) and counts nothing by hand. Nothing of the seed's stack is written, detected or not.
 */
import { access, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { MigrationTool } from './schema.js';

export type PresetTool = Exclude<MigrationTool, 'custom'>;

export interface DetectedProject {
  tool: PresetTool;
  /** What gave it away, relative to the project directory (a file, or package.json's dependency). */
  evidence: string;
  /** The migrations directory when the project's own config moves it (flyway.locations). */
  directory?: string;
}

/** What the starter says about a detected tool: its preset, as data. */
export interface StarterTool extends DetectedProject {
  label: string;
  /** The history table berth reads. */
  table: string;
  migrateCommand: readonly string[];
  checkCommand?: readonly string[];
  /** Where berth learns the code's migrations. */
  known: { kind: 'directory'; directory: string } | { kind: 'listing'; command: readonly string[] };
  /** When pending cannot always be known without running the tool. */
  pendingCaveat?: string;
}

type Probe = (dir: string) => Promise<DetectedProject | undefined>;

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );

async function files(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

async function text(file: string): Promise<string | undefined> {
  return readFile(file, 'utf8').catch(() => undefined);
}

/** A file that gives the tool away. */
const file =
  (tool: PresetTool, ...candidates: string[]): Probe =>
  async (dir) => {
    for (const evidence of candidates)
      if (await exists(path.join(dir, evidence))) return { tool, evidence };
    return undefined;
  };

/** Flyway: flyway.conf (or Flyway 10's flyway.toml), with the filesystem location it names. */
const flyway: Probe = async (dir) => {
  for (const evidence of ['flyway.conf', 'flyway.toml']) {
    const conf = await text(path.join(dir, evidence));
    if (conf === undefined) continue;
    // flyway.locations=filesystem:db/migration (conf) or locations = ["filesystem:db/migration"]
    const location = /locations\s*=\s*\[?\s*"?filesystem:([^",\s\]]+)/.exec(conf)?.[1];
    const directory = location?.replace(/^\.\//, '').replace(/\/$/, '');
    return { tool: 'flyway', evidence, ...(directory && directory !== 'sql' ? { directory } : {}) };
  }
  return undefined;
};

/** The migration tools a package.json depends on, most specific first. */
const NPM_TOOLS: readonly [string, PresetTool][] = [
  ['node-pg-migrate', 'node-pg-migrate'],
  ['knex', 'knex'],
  ['sequelize-cli', 'sequelize'],
  ['typeorm', 'typeorm'],
  ['prisma', 'prisma'],
  ['dbmate', 'dbmate'],
];

const npm: Probe = async (dir) => {
  const json = await text(path.join(dir, 'package.json'));
  if (json === undefined) return undefined;
  let pkg: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
  try {
    pkg = JSON.parse(json) as typeof pkg;
  } catch {
    return undefined;
  }
  const deps = { ...pkg.dependencies, ...pkg.devDependencies };
  for (const [name, tool] of NPM_TOOLS)
    if (name in deps) return { tool, evidence: `package.json (${name})` };
  return undefined;
};

/** dbmate's db/migrations: SQL files with `-- migrate:up` sections. */
const dbmate: Probe = async (dir) => {
  const folder = path.join(dir, 'db/migrations');
  for (const name of (await files(folder)).filter((f) => f.endsWith('.sql')))
    if ((await text(path.join(folder, name)))?.includes('-- migrate:up'))
      return { tool: 'dbmate', evidence: 'db/migrations' };
  return undefined;
};

/** golang-migrate: the module in go.mod, or migrations/ with NNN_name.up.sql files. */
const golangMigrate: Probe = async (dir) => {
  if ((await text(path.join(dir, 'go.mod')))?.includes('github.com/golang-migrate/migrate'))
    return { tool: 'golang-migrate', evidence: 'go.mod (golang-migrate)' };
  if ((await files(path.join(dir, 'migrations'))).some((f) => /^\d+_.+\.up\.sql$/.test(f)))
    return { tool: 'golang-migrate', evidence: 'migrations/*.up.sql' };
  return undefined;
};

/** First match wins: the most specific evidence first. */
const PROBES: readonly Probe[] = [
  file('django', 'manage.py'),
  file('alembic', 'alembic.ini'),
  file('prisma', 'prisma/schema.prisma'),
  flyway,
  file('rails', 'db/migrate'),
  file('knex', 'knexfile.js', 'knexfile.ts', 'knexfile.cjs', 'knexfile.mjs'),
  file('sequelize', '.sequelizerc'),
  npm,
  dbmate,
  golangMigrate,
];

export async function detectProject(dir: string): Promise<DetectedProject | undefined> {
  for (const probe of PROBES) {
    const found = await probe(dir);
    if (found) return found;
  }
  return undefined;
}

/** A command as a YAML flow sequence: plain words where YAML reads them as strings. */
export function yamlCommand(command: readonly string[]): string {
  const plain = (s: string) =>
    /^[A-Za-z0-9_./@=+-][A-Za-z0-9_./@=+:-]*$/.test(s) &&
    !/^(true|false|yes|no|on|off|null|~|[-+]?[\d.]+(e[-+]?\d+)?)$/i.test(s);
  return `[${command.map((s) => (plain(s) ? s : JSON.stringify(s))).join(', ')}]`;
}

/**
 * `schema`: where editors find the JSON Schema, relative to berth.yaml (the installed
 * package's `schema/berth.schema.json`); without it the starter names none.
 */
export function starterConfig(app = 'app', tool?: StarterTool, schema?: string): string {
  const body = tool ? toolStarter(app, tool) : customStarter(app);
  const line = schema ? `# yaml-language-server: $schema=${schema}\n` : '';
  return body.replace('version: 1\n', `${line}version: 1\n`);
}

/** The sections every starter has: the stack's names, derived from the app's. */
function stackSections(app: string): string {
  return `version: 1
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
`;
}

function databaseSection(app: string): string {
  return `database:
  secret:
    name: rds/${app}/master   # JSON with username, password, host, port
  tenants:               # or { file: tenants.txt } or { query: "SELECT ...", database: postgres }
    - ${app.replace(/-/g, '_')}
  # expectedTables: N    # optional: verify then also checks the table count
`;
}

const TASK_ENVIRONMENT = `  # Each task gets DATABASE_NAME (the tenant) and DATABASE_HOST, DATABASE_PORT,
  # DATABASE_USER, DATABASE_PASSWORD (the secret): the app's database config reads them.
  # The app's own secrets go in task.secrets, never in environment (Secrets Manager or
  # Parameter Store on AWS, berth's own environment locally):
  # secrets:
  #   SECRET_KEY: app/secret-key        # or { secret: app/keys, key: secret_key }
  #   API_TOKEN: { parameter: /app/api-token }   # a Parameter Store SecureString`;

const PYTHON_TOOLS: ReadonlySet<string> = new Set(['django', 'alembic']);
// Python buffers stdout when it is not a terminal: a failing migration's traceback (stderr)
// would reach the task log before the lines that led to it.
const PYTHON_ENVIRONMENT = `
  environment:
    PYTHONUNBUFFERED: "1"   # the log keeps the order of what the migration printed`;

function toolStarter(app: string, tool: StarterTool): string {
  const check = tool.checkCommand
    ? `\n  checkCommand: ${yamlCommand(tool.checkCommand)}   # verify runs it per tenant; fails while migrations are pending`
    : '';
  const directory = tool.directory ?? (tool.known.kind === 'directory' ? tool.known.directory : '');
  const known =
    tool.known.kind === 'listing'
      ? `  # berth learns the code's migrations by running \`${tool.known.command.join(' ')}\` once per
  # run (never once per tenant), so up-to-date tenants start no process at all. It runs with
  # task.command's program (a virtualenv's python named there is used here too).
  # listCommand: ${yamlCommand(tool.known.command)}`
      : tool.directory
        ? `  directory: ${tool.directory}   # from ${tool.evidence}`
        : `  # The code's migrations are read from ${directory}/ (the preset's default).
  # directory: ${directory}`;
  const caveat = tool.pendingCaveat ? `\n  # Note: ${tool.pendingCaveat}.` : '';
  const batch =
    tool.tool === 'django'
      ? `
  # Batch mode: one Python process migrates a whole batch (fleet.batchSize, e.g. 25) instead of
  # one per tenant. Install the command first: \`berth snippet django --app APP\`.
  # batchCommand: [python3, manage.py, berth_migrate]
  # On AWS berth cannot reach the databases: a probe reads many in one task (the fast path when
  # nothing is pending, and verify's schema comparison). Install it with
  # \`berth snippet django-probe --app APP\`.
  # probeCommand: [python3, manage.py, berth_probe]`
      : '';
  return `# berth.yaml — one stack, its tenant databases and how to migrate them.
# Written for this ${tool.label} project (found ${tool.evidence}). Full reference: README.md
# "Config reference" and "Migration tools". Check it with \`berth config validate\`.
${stackSections(app)}
task:
  family: ${app}-migration-task
  command: ${yamlCommand(tool.migrateCommand)}${check}${batch}
${TASK_ENVIRONMENT}${PYTHON_TOOLS.has(tool.tool) ? PYTHON_ENVIRONMENT : ''}

${databaseSection(app)}
migrations:
  tool: ${tool.tool}   # history in ${tool.table}; see README "Migration tools"
${known}${caveat}
`;
}

function customStarter(app: string): string {
  return `# berth.yaml — one stack, its tenant databases and how to migrate them.
# No migration tool was recognised here. If you use one of django, rails, alembic, prisma,
# flyway, golang-migrate, dbmate, knex, sequelize, typeorm or node-pg-migrate, set
# migrations.tool to it (or run \`berth init --force\` where its files are) and berth knows its
# history table and commands. Otherwise fill in the lines marked <- below.
# Full reference: README.md "Config reference". Check it with \`berth config validate\`.
${stackSections(app)}
task:
  family: ${app}-migration-task
  command: [./migrate]   # <- your migrate command, run once per tenant
${TASK_ENVIRONMENT}

${databaseSection(app)}
migrations:
  tool: custom
  directory: migrations  # <- the migration files: pending = files whose names are not in the history
  table: schema_migrations   # <- the table your tool records applied migrations in
  nameColumns: [version]     #    and the column(s) naming each one
`;
}
