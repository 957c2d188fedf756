import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  describeTarget,
  isDatabaseConfigured,
  loadDatabaseConfig,
  loadOptionalDatabaseConfig,
  redact,
  toClientConfig,
} from '../src/config.js';

const PASSWORD = 'correct-horse-battery-staple';

const fullEnv = {
  DATABASE_NAME: 'healthtech_experiment',
  DATABASE_HOST: 'db.internal',
  DATABASE_USER: 'django_app',
  DATABASE_PASSWORD: PASSWORD,
};

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadDatabaseConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadDatabaseConfig', () => {
  it('reads the ECS task environment, defaulting the port to 5432', () => {
    expect(loadDatabaseConfig(fullEnv)).toEqual({
      database: 'healthtech_experiment',
      host: 'db.internal',
      port: 5432,
      user: 'django_app',
      password: PASSWORD,
    });
  });

  it('honours DATABASE_PORT', () => {
    expect(loadDatabaseConfig({ ...fullEnv, DATABASE_PORT: '6543' }).port).toBe(6543);
  });

  it('names the missing variable', () => {
    const { DATABASE_NAME: _omitted, ...env } = fullEnv;
    expect(configError(env).message).toBe('Missing required environment variable: DATABASE_NAME');
  });

  it('names every missing variable at once and treats blank values as missing', () => {
    const error = configError({ DATABASE_NAME: 'startupwebapp_prod', DATABASE_HOST: '  ' });
    expect(error.message).toBe(
      'Missing required environment variables: DATABASE_HOST, DATABASE_USER, DATABASE_PASSWORD',
    );
  });

  it.each(['0', '65536', '54x', '-1', '5432.5'])('rejects DATABASE_PORT=%s', (port) => {
    expect(configError({ ...fullEnv, DATABASE_PORT: port }).message).toMatch(
      /^DATABASE_PORT must be/,
    );
  });

  it('never puts the password in an error message', () => {
    const cases = [
      { DATABASE_PASSWORD: PASSWORD },
      { ...fullEnv, DATABASE_NAME: '' },
      { ...fullEnv, DATABASE_PORT: 'not-a-port' },
    ];
    for (const env of cases) {
      const error = configError(env);
      expect(error.message).not.toContain(PASSWORD);
      expect(String(error.stack)).not.toContain(PASSWORD);
    }
  });
});

describe('optional database configuration', () => {
  it('is unconfigured when no DATABASE_* variable is set', () => {
    expect(isDatabaseConfigured({ PORT: '8000' })).toBe(false);
    expect(loadOptionalDatabaseConfig({})).toBeUndefined();
  });

  it('is strict as soon as any DATABASE_* variable is set', () => {
    expect(isDatabaseConfigured({ DATABASE_HOST: 'db.internal' })).toBe(true);
    expect(() => loadOptionalDatabaseConfig({ DATABASE_HOST: 'db.internal' })).toThrow(
      /DATABASE_NAME, DATABASE_USER, DATABASE_PASSWORD/,
    );
  });
});

describe('secrets in output', () => {
  const config = loadDatabaseConfig(fullEnv);

  it('describes the target without the password', () => {
    expect(describeTarget(config)).toBe('django_app@db.internal:5432/healthtech_experiment');
  });

  it('passes node-postgres an options object, never a connection string', () => {
    const client = toClientConfig(config);
    expect(client).not.toHaveProperty('connectionString');
    expect(client.password).toBe(PASSWORD);
  });

  it('redacts the password from arbitrary text', () => {
    expect(redact(`failed for ${PASSWORD} twice: ${PASSWORD}`, config)).toBe(
      'failed for [REDACTED] twice: [REDACTED]',
    );
    expect(redact('nothing secret', { password: '' })).toBe('nothing secret');
  });
});
