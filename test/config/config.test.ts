import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/load-config.js';
import { configJsonSchema } from '../../src/config/json-schema.js';
import { starterConfig } from '../../src/config/starter.js';
import { isBerthError } from '../../src/core/errors.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

describe('berth.yaml', () => {
  it("the repository's berth.yaml describes the seed's stack with the seed's names and numbers", async () => {
    const { config } = await loadConfig('berth.yaml', ROOT);
    expect(config.app).toBe('startupwebapp');
    expect(config.aws.region).toBe('us-east-1');
    expect(config.registry).toMatchObject({
      name: 'startupwebapp-backend',
      scanOnPush: true,
      encryption: 'AES256',
      keepImages: 10,
    });
    expect({ ...config.tags, ...config.registry.tags }).toEqual({
      Name: 'startupwebapp-backend',
      Environment: 'Production',
      Application: 'StartupWebApp',
    });
    expect(config.cluster.name).toBe('startupwebapp-cluster');
    expect(config.logs).toEqual({
      group: '/ecs/startupwebapp-migrations',
      retentionDays: 7,
      streamPrefix: 'migration',
    });
    expect(config.roles).toMatchObject({
      execution: 'ecsTaskExecutionRole-startupwebapp',
      task: 'ecsTaskRole-startupwebapp',
    });
    expect(config.task).toMatchObject({
      family: 'startupwebapp-migration-task',
      cpu: 256,
      memory: 512,
      timeoutSeconds: 600,
    });
    expect(config.database.secret.name).toBe('rds/startupwebapp/multi-tenant/master');
    expect(config.database.tenants).toEqual([
      'startupwebapp_prod',
      'healthtech_experiment',
      'fintech_experiment',
    ]);
    expect(config.database.expectedTables).toBe(57);
  });

  it('fills defaults for everything optional', () => {
    const config = parseConfig(`app: x
registry: { name: r }
cluster: { name: c }
logs: { group: /ecs/x }
roles: { execution: e, task: t }
task: { family: f, command: [migrate] }
database: { secret: { name: s }, tenants: [a], expectedTables: 1 }
migrations: { directory: m }
`);
    expect(config.provider).toBe('local');
    expect(config.fleet).toEqual({ concurrency: 3, onError: 'stop', batchSize: 1 });
    expect(config.task).toMatchObject({
      cpu: 256,
      memory: 512,
      user: '1000',
      readonlyRootFilesystem: true,
    });
    expect(config.database.secret.keys).toEqual({
      DATABASE_PASSWORD: 'password',
      DATABASE_USER: 'username',
      DATABASE_HOST: 'host',
      DATABASE_PORT: 'port',
    });
    expect(config.local.dataDir).toBe('.berth');
  });

  it('collects every problem at once instead of stopping at the first', () => {
    try {
      parseConfig('app: X\nbogus: 1\n');
      expect.unreachable();
    } catch (error) {
      expect(isBerthError(error) && error.code).toBe('CONFIG_INVALID');
      const issues = (isBerthError(error) ? (error.details?.issues as { path: string }[]) : []).map(
        (i) => i.path,
      );
      expect(issues).toEqual(
        expect.arrayContaining(['app', 'bogus', 'registry', 'cluster', 'task', 'database']),
      );
    }
  });

  it('the starter file written by `berth init` is valid', () => {
    expect(() => parseConfig(starterConfig('shop'))).not.toThrow();
  });

  it('the committed JSON Schema is the one generated from the zod schema', async () => {
    const committed = JSON.parse(
      await readFile(path.join(ROOT, 'schema/berth.schema.json'), 'utf8'),
    ) as unknown;
    expect(committed).toEqual(configJsonSchema());
    const schema = configJsonSchema() as {
      properties: Record<string, { description?: string }>;
      additionalProperties?: boolean;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.app?.description).toMatch(/stack name/);
  });
});
