/** The client factory: settings precedence, lazy SDK loading, and domain code free of @aws-sdk. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createAwsClients, resolveAwsSettings } from '../../../../src/providers/aws/api/clients.js';
import { parseProfileRegion } from '../../../../src/providers/aws/api/profile-region.js';
import { createAwsFake } from '../../../../src/providers/aws/fake/aws-fake.js';
import {
  sampleConfig,
  seedPrerequisites,
} from '../../../../src/providers/aws/fake/sample-stack.js';
import { planStack, STACK_RESOURCES, upStack } from '../../../../src/providers/aws/stack/stack.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

describe('resolveAwsSettings', () => {
  const config = sampleConfig((y) =>
    y.replace(
      '  region: us-east-1',
      '  region: eu-west-1\n  profile: from-config\n  endpoint: http://config.example:4566',
    ),
  );

  it('prefers the command line, then AWS_ENDPOINT_URL for the endpoint, then berth.yaml', () => {
    expect(resolveAwsSettings(config, {}, {})).toEqual({
      region: 'eu-west-1',
      profile: 'from-config',
      endpoint: 'http://config.example:4566',
    });
    expect(
      resolveAwsSettings(config, {}, { AWS_ENDPOINT_URL: 'http://env.example:4566' }).endpoint,
    ).toBe('http://env.example:4566');
    expect(
      resolveAwsSettings(
        config,
        { region: 'ap-south-1', profile: 'cli', endpointUrl: 'http://cli.example:4566' },
        { AWS_ENDPOINT_URL: 'http://env.example:4566' },
      ),
    ).toEqual({ region: 'ap-south-1', profile: 'cli', endpoint: 'http://cli.example:4566' });
  });

  it('leaves profile and endpoint to the SDK default chain when nothing sets them', () => {
    expect(resolveAwsSettings(sampleConfig(), {}, { AWS_ENDPOINT_URL: '  ' })).toEqual({
      region: 'us-east-1',
    });
  });
});

describe('resolveAwsSettings: the region', () => {
  const config = sampleConfig((y) => y.replace('  region: us-east-1', '  region: eu-west-1'));
  const SHARED = [
    '[default]',
    'region = us-west-2',
    '',
    '[profile ci] # the CI role',
    'output = json',
    'region = ap-northeast-1',
  ].join('\n');

  async function withSharedConfig(test: (file: string) => void): Promise<void> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-aws-config-'));
    try {
      const file = path.join(dir, 'config');
      await writeFile(file, SHARED);
      test(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('--region, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile, then berth.yaml', async () => {
    await withSharedConfig((file) => {
      const env = {
        AWS_CONFIG_FILE: file,
        AWS_REGION: 'ca-central-1',
        AWS_DEFAULT_REGION: 'sa-east-1',
      };
      const region = (e: NodeJS.ProcessEnv, o = {}) => resolveAwsSettings(config, o, e).region;
      expect(region(env, { region: 'ap-south-1' })).toBe('ap-south-1');
      expect(region(env)).toBe('ca-central-1');
      expect(region({ ...env, AWS_REGION: '' })).toBe('sa-east-1');
      expect(region({ AWS_CONFIG_FILE: file })).toBe('us-west-2');
      expect(region({ AWS_CONFIG_FILE: '/nonexistent/aws-config' })).toBe('eu-west-1');
      expect(region({})).toBe('eu-west-1');
    });
  });

  it('reads the region of the profile in use: --profile, aws.profile, AWS_PROFILE, else default', async () => {
    await withSharedConfig((file) => {
      const region = (e: NodeJS.ProcessEnv, o = {}, c = config) =>
        resolveAwsSettings(c, o, { AWS_CONFIG_FILE: file, ...e }).region;
      expect(region({}, { profile: 'ci' })).toBe('ap-northeast-1');
      expect(region({ AWS_PROFILE: 'ci' })).toBe('ap-northeast-1');
      const withProfile = sampleConfig((y) =>
        y.replace('  region: us-east-1', '  region: eu-west-1\n  profile: ci'),
      );
      expect(region({ AWS_PROFILE: 'other' }, {}, withProfile)).toBe('ap-northeast-1');
      // A profile without a region falls through to berth.yaml, not to [default].
      expect(region({ AWS_PROFILE: 'missing' })).toBe('eu-west-1');
    });
  });

  it('parses the shared config as the SDK does', () => {
    expect(parseProfileRegion('[default]\nregion=eu-north-1\n', 'default')).toBe('eu-north-1');
    expect(parseProfileRegion('[profile default]\n region = eu-north-1 ; x\n', 'default')).toBe(
      'eu-north-1',
    );
    // `[ci]` is the credentials file's form; in the config file a named profile is `[profile ci]`.
    expect(parseProfileRegion('[ci]\nregion = eu-north-1\n', 'ci')).toBeUndefined();
    expect(parseProfileRegion('[profile  ci ]\nregion = eu-north-1\n', 'ci')).toBe('eu-north-1');
    expect(parseProfileRegion('# region = x\n[default]\nsso_region = y\n', 'default')).toBe(
      undefined,
    );
  });
});

describe('createAwsClients', () => {
  it('builds nothing until a call is made, and is not a thenable', async () => {
    const clients = createAwsClients({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
    expect(Object.keys(clients).sort()).toEqual([
      'ec2',
      'ecr',
      'ecs',
      'iam',
      'logs',
      'secrets',
      'ssm',
      'sts',
    ]);
    // Awaiting a service object must not call a method named "then".
    const ecr: unknown = await Promise.resolve(clients.ecr);
    expect(ecr).toBe(clients.ecr);
    expect(typeof clients.ecr.describeRepository).toBe('function');
  });
});

async function sourceFiles(dir: string): Promise<string[]> {
  const names = await readdir(path.join(ROOT, dir), { recursive: true });
  return names.filter((n) => n.endsWith('.ts')).map((n) => path.join(ROOT, dir, n));
}

describe('layering', () => {
  it('keeps @aws-sdk imports in src/providers/aws/api/sdk only (domain code sees the interfaces)', async () => {
    const files = [
      ...(await sourceFiles('src/providers/aws')),
      path.join(ROOT, 'src/cli/commands/infra.ts'),
    ];
    const offenders: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      if (
        /from '@aws-sdk\//.test(text) &&
        !file.includes(`${path.sep}providers${path.sep}aws${path.sep}api${path.sep}sdk${path.sep}`)
      )
        offenders.push(path.relative(ROOT, file));
    }
    expect(offenders).toEqual([]);
  });

  it('loads the SDK adapters only through dynamic import()', async () => {
    const text = await readFile(path.join(ROOT, 'src/providers/aws/api/clients.ts'), 'utf8');
    expect(text).not.toMatch(/^import .*['"]\.\/sdk\//m);
    expect(text.match(/await import\('\.\/sdk\/[a-z0-9]+\.js'\)/g)).toHaveLength(8);
  });
});

describe('plan on an up-to-date stack', () => {
  it('reads only, a few calls per resource, in parallel', async () => {
    const config = sampleConfig();
    const fake = createAwsFake({ region: config.aws.region });
    seedPrerequisites(fake, config);
    const stack = { clients: fake.clients, config, region: config.aws.region };
    await upStack(stack);
    fake.latencyMs = 2;
    fake.resetCalls();
    const plan = await planStack(stack);
    const byMethod: Record<string, number> = {};
    for (const c of fake.calls)
      byMethod[`${c.service}.${c.method}`] = (byMethod[`${c.service}.${c.method}`] ?? 0) + 1;
    expect(plan.pending).toBe(false);
    expect(fake.writes()).toHaveLength(0);
    expect(STACK_RESOURCES).toHaveLength(7);
    expect(fake.calls.length / STACK_RESOURCES.length).toBeLessThanOrEqual(3);
    expect(fake.peakConcurrency).toBeGreaterThan(5);
    expect(byMethod['secrets.describeSecret']).toBe(1);
  });
});
