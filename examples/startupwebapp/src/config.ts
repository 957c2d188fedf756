// Database settings come from the environment the ECS task receives (the DATABASE_* values
// are injected from Secrets Manager; DATABASE_NAME is overridden per tenant run).
import type { ClientConfig } from 'pg';

export interface DatabaseConfig {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** A configuration problem. Messages name variables but never contain their secret values. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_DATABASE_PORT = 5432;

// Checked in this order so the error lists the tenant database first: it is the value that
// changes per run and therefore the one most often forgotten.
const REQUIRED = ['DATABASE_NAME', 'DATABASE_HOST', 'DATABASE_USER', 'DATABASE_PASSWORD'] as const;
const ALL_VARIABLES = [...REQUIRED, 'DATABASE_PORT'] as const;

/** True when any DATABASE_* variable is set, i.e. the operator intended to configure a database. */
export function isDatabaseConfigured(env: Env = process.env): boolean {
  return ALL_VARIABLES.some((name) => nonEmpty(env[name]) !== undefined);
}

/**
 * Reads the database settings. Throws a ConfigError that names every missing variable, so a
 * task definition with a forgotten secret mapping fails with an actionable message.
 */
export function loadDatabaseConfig(env: Env = process.env): DatabaseConfig {
  const missing = REQUIRED.filter((name) => nonEmpty(env[name]) === undefined);
  if (missing.length > 0) {
    const noun = missing.length === 1 ? 'variable' : 'variables';
    throw new ConfigError(`Missing required environment ${noun}: ${missing.join(', ')}`);
  }
  return {
    // Non-null assertions are safe: the loop above proved every required value is present.
    database: env.DATABASE_NAME!,
    host: env.DATABASE_HOST!,
    user: env.DATABASE_USER!,
    password: env.DATABASE_PASSWORD!,
    port: parsePort('DATABASE_PORT', env.DATABASE_PORT, DEFAULT_DATABASE_PORT),
  };
}

/** Like loadDatabaseConfig, but returns undefined when no DATABASE_* variable is set at all. */
export function loadOptionalDatabaseConfig(env: Env = process.env): DatabaseConfig | undefined {
  return isDatabaseConfigured(env) ? loadDatabaseConfig(env) : undefined;
}

/** Parses a TCP port variable; `name` is only used to make the error message actionable. */
export function parsePort(name: string, raw: string | undefined, fallback: number): number {
  const value = nonEmpty(raw);
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65_535) {
    throw new ConfigError(`${name} must be an integer between 1 and 65535, got "${value}"`);
  }
  return port;
}

/** Connection options for node-postgres. An object, never a URL, so no string embeds the password. */
export function toClientConfig(config: DatabaseConfig): ClientConfig {
  return {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password,
    // Fail fast on an unreachable host instead of waiting for the OS TCP timeout.
    connectionTimeoutMillis: 10_000,
    application_name: 'startupwebapp',
  };
}

/** A log-safe description of the target: user, host, port and database, never the password. */
export function describeTarget(config: DatabaseConfig): string {
  return `${config.user}@${config.host}:${config.port}/${config.database}`;
}

/**
 * Removes the password from text that will be printed. Error messages from drivers and
 * libraries are not ours to audit, so anything we print passes through this last.
 */
export function redact(text: string, config: Pick<DatabaseConfig, 'password'> | undefined): string {
  if (config === undefined || config.password === '') return text;
  return text.replaceAll(config.password, '[REDACTED]');
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
