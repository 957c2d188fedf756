/**
 * Layer 3 of config validation: rules that need several fields at once. They collect every
 * problem instead of stopping at the first, so one run of `berth` shows the whole list.
 */
import { credentialInUrl, secretLikeName } from '../core/redact.js';
import { LISTING_TOOLS, SYSTEM_DATABASES, taskSecrets, type Config } from './schema.js';

export interface ConfigIssue {
  /** Dotted field path, e.g. `database.tenants.2`. */
  path: string;
  message: string;
  line?: number | undefined;
  /** Set for YAML syntax problems, where the exact character matters. */
  column?: number | undefined;
  /**
   * Set (instead of `line`) when the field is not in the file: the deepest section of its path
   * that is (`network`) and that section's line, where the field would go; `{}` when none is.
   */
  unset?: { section?: string; line?: number } | undefined;
}

/** Fargate's valid CPU units → memory (MiB) ranges. */
const FARGATE_MEMORY: Record<number, (memory: number) => boolean> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
  8192: (m) => m >= 16384 && m <= 61440 && m % 4096 === 0,
  16384: (m) => m >= 32768 && m <= 122880 && m % 8192 === 0,
};

/** Variables berth sets itself: from the secret, or per run. */
const RESERVED_ENV = [
  'DATABASE_NAME',
  'DATABASE_NAMES',
  'DATABASE_PASSWORD',
  'DATABASE_USER',
  'DATABASE_HOST',
  'DATABASE_PORT',
];

export function semanticIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { tenants } = config.database;
  if (Array.isArray(tenants)) {
    const seen = new Map<string, number>();
    tenants.forEach((name, index) => {
      const first = seen.get(name);
      if (first !== undefined) {
        issues.push({
          path: `database.tenants.${index}`,
          message: `duplicate database "${name}" (already listed at database.tenants.${first}); list each database once`,
        });
      } else seen.set(name, index);
      const reason = notATenant(name);
      if (reason) issues.push({ path: `database.tenants.${index}`, message: reason });
    });
  }

  const memoryOk = FARGATE_MEMORY[config.task.cpu];
  if (!memoryOk) {
    issues.push({
      path: 'task.cpu',
      message: `Fargate does not offer ${config.task.cpu} CPU units; use one of ${Object.keys(FARGATE_MEMORY).join(', ')}`,
    });
  } else if (!memoryOk(config.task.memory)) {
    issues.push({
      path: 'task.memory',
      message: `Fargate does not offer ${config.task.memory} MiB with ${config.task.cpu} CPU units (256 CPU units allow 512, 1024 or 2048)`,
    });
  }

  if (config.registry.encryption === 'KMS' && !config.registry.kmsKey) {
    issues.push({ path: 'registry.kmsKey', message: 'required when registry.encryption is KMS' });
  }
  if (config.registry.encryption !== 'KMS' && config.registry.kmsKey) {
    issues.push({
      path: 'registry.kmsKey',
      message: 'only allowed when registry.encryption is KMS',
    });
  }

  issues.push(...migrationsIssues(config));

  for (const [name, value] of Object.entries(config.task.environment)) {
    if (RESERVED_ENV.includes(name)) {
      issues.push({
        path: `task.environment.${name}`,
        message: `${name} is set by berth (per database, or from database.secret); remove it here`,
      });
    } else if (secretLikeName(name) || credentialInUrl(value)) {
      // Plain environment is stored in clear in the ECS task definition, readable by anyone
      // who may describe it, and `berth plan` shows it.
      issues.push({
        path: `task.environment.${name}`,
        message: `${secretLikeName(name) ? `${name} names a secret` : 'the value carries a password in its URL'}: task.environment is plain text, stored in clear in the task definition and shown by \`berth plan\`. Put the value in a Secrets Manager secret or a Parameter Store SecureString and name it under task.secrets instead (${name}: <secret name>, or ${name}: { parameter: /path/name }; locally berth passes ${name} from its own environment); the database credentials come from database.secret`,
      });
    }
  }
  for (const { name } of taskSecrets(config)) {
    if (RESERVED_ENV.includes(name)) {
      issues.push({
        path: `task.secrets.${name}`,
        message: `${name} is set by berth (per database, or from database.secret); use another name`,
      });
    } else if (name in config.task.environment) {
      issues.push({
        path: `task.secrets.${name}`,
        message: `${name} is also set in task.environment; keep it in one of the two`,
      });
    }
  }
  return issues;
}

/**
 * Why a name can never be a tenant database, or undefined when it can be. `control` is the
 * database a tenant query runs in: migrating it would migrate the place the fleet is listed.
 */
export function notATenant(name: string, control?: string): string | undefined {
  if (SYSTEM_DATABASES.includes(name))
    return `"${name}" is a PostgreSQL system database, never a tenant (berth refuses ${SYSTEM_DATABASES.join(', ')})`;
  if (control !== undefined && name === control)
    return `"${name}" is the control database the tenant query runs in (database.tenants.database), never a tenant`;
  return undefined;
}

/** Fields only the aws provider needs; checked when a command uses it, before any call. */
export function awsIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (config.network.subnets.length === 0) {
    issues.push({
      path: 'network.subnets',
      message: 'list the private subnets the tasks run in (subnet-...)',
    });
  }
  if (!config.network.backendSecurityGroup) {
    issues.push({
      path: 'network.backendSecurityGroup',
      message: "name the tasks' security group (sg-... or its Name tag)",
    });
  }
  if (!config.network.databaseSecurityGroup) {
    issues.push({
      path: 'network.databaseSecurityGroup',
      message: "name the database's security group (sg-... or its Name tag)",
    });
  }
  return issues;
}

/** migrations.*: the fields a preset fixes, and the ways to learn the code's migrations. */
function migrationsIssues(config: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { tool, directory, listCommand, table, nameColumns } = config.migrations;
  if (tool === 'custom') {
    if (!config.task.command) {
      issues.push({
        path: 'task.command',
        message:
          "required with migrations.tool: custom: set the app's migrate command (e.g. [node, dist/migrate.js]), or set migrations.tool to your migration tool (e.g. django) to use its default",
      });
    }
    if (!directory && !config.task.checkCommand) {
      issues.push({
        path: 'migrations.directory',
        message:
          'berth needs a way to see pending migrations: set migrations.tool (e.g. django), migrations.directory, or task.checkCommand (e.g. python manage.py migrate --check)',
      });
    }
    if (listCommand) {
      issues.push({
        path: 'migrations.listCommand',
        message: `berth parses a listing command's output only for the tools ${LISTING_TOOLS.join(', ')}; set migrations.tool, or use migrations.directory`,
      });
    }
    return issues;
  }
  for (const [field, value] of [
    ['table', table],
    ['nameColumns', nameColumns],
  ] as const) {
    if (value !== undefined) {
      issues.push({
        path: `migrations.${field}`,
        message: `the ${tool} preset knows its history table; remove migrations.${field}, or set migrations.tool: custom to describe the table yourself`,
      });
    }
  }
  const listing = LISTING_TOOLS.includes(tool);
  if (listing && directory) {
    issues.push({
      path: 'migrations.directory',
      message: `${tool} migrations are listed by running migrations.listCommand (see README "Migration tools"), not read from a directory; remove migrations.directory`,
    });
  }
  if (!listing && listCommand) {
    issues.push({
      path: 'migrations.listCommand',
      message: `${tool} migrations are read from migrations.directory; remove migrations.listCommand`,
    });
  }
  return issues;
}
