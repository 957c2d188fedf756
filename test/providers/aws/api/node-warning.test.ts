/**
 * Under Node 20 the AWS SDK warns (process.emitWarning, from every client constructor) that
 * its 2027 releases need Node 22. berth drops exactly that warning, so it reaches neither
 * stdout (--json) nor stderr. The child-process tests build real SDK clients.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isSdkNodeVersionWarning,
  silenceSdkNodeVersionWarning,
} from '../../../../src/providers/aws/api/node-warning.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
// Under the repository, so the bundle's bare imports (@aws-sdk/*) resolve from node_modules.
const WORK = path.join(
  ROOT,
  'node_modules',
  '.cache',
  'berth-tests',
  `node-warning-${process.pid}`,
);
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

const SDK_MESSAGE = `NodeVersionSupportWarning: The AWS SDK for JavaScript (v3)
versions published after the first week of January 2027
will require node >=22. You are running node v20.0.0.`;

function fakeProcess() {
  const emitted: unknown[][] = [];
  const proc = {
    env: {} as NodeJS.ProcessEnv,
    emitWarning: (...args: unknown[]) => {
      emitted.push(args);
    },
  };
  return { proc: proc as unknown as NodeJS.Process, emitted };
}

describe('the SDK Node version warning filter', () => {
  it('recognises the SDK warning and nothing else', () => {
    expect(isSdkNodeVersionWarning(SDK_MESSAGE)).toBe(true);
    expect(
      isSdkNodeVersionWarning(Object.assign(new Error('x'), { name: 'NodeVersionSupportWarning' })),
    ).toBe(true);
    expect(isSdkNodeVersionWarning('some message', 'NodeVersionSupportWarning')).toBe(true);
    expect(isSdkNodeVersionWarning('ExperimentalWarning: something')).toBe(false);
    expect(isSdkNodeVersionWarning(new Error('deprecated'))).toBe(false);
  });

  it('drops that warning, lets the others through, and installs once', () => {
    const { proc, emitted } = fakeProcess();
    silenceSdkNodeVersionWarning(proc);
    silenceSdkNodeVersionWarning(proc);
    proc.emitWarning(SDK_MESSAGE);
    proc.emitWarning('a message', { type: 'NodeVersionSupportWarning' });
    proc.emitWarning('something else', 'DeprecationWarning', 'DEP0001');
    expect(emitted).toEqual([['something else', 'DeprecationWarning', 'DEP0001']]);
    expect(proc.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
  });

  it("respects a user's own setting of the SDK's opt-out variable", () => {
    const { proc } = fakeProcess();
    proc.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'false';
    silenceSdkNodeVersionWarning(proc);
    expect(proc.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('false');
  });
});

describe('real SDK clients in a child process', () => {
  afterAll(async () => {
    await rm(WORK, { recursive: true, force: true });
  });

  async function runBundled(name: string, source: string, extraEnv: NodeJS.ProcessEnv = {}) {
    await mkdir(WORK, { recursive: true });
    const entry = path.join(WORK, `${name}.ts`);
    const outfile = path.join(WORK, `${name}.mjs`);
    await writeFile(entry, source);
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
      AWS_SECRET_ACCESS_KEY: 'fake',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      ...extraEnv,
    };
    return spawnSync(process.execPath, [outfile], { env, encoding: 'utf8', timeout: 30_000 });
  }

  const src = (p: string) => JSON.stringify(path.join(ROOT, 'src', p));

  it.runIf(NODE_MAJOR < 22)(
    'the SDK does warn on this Node when nothing filters it (control)',
    async () => {
      const result = await runBundled(
        'control',
        `import { ECRClient } from '@aws-sdk/client-ecr';\nnew ECRClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });\nprocess.stdout.write('{"ok":true}\\n');\n`,
      );
      expect(result.status).toBe(0);
      expect(result.stdout).toBe('{"ok":true}\n');
      expect(result.stderr).toContain('NodeVersionSupportWarning');
    },
  );

  it.each([
    ['by default', {}],
    // The SDK then emits the warning itself: only berth's emitWarning filter stands in the way.
    [
      "with the SDK's own opt-out variable set to false",
      { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' },
    ],
  ])(
    "never reaches berth's stdout or stderr once berth builds the clients (%s)",
    async (_label, extraEnv: NodeJS.ProcessEnv) => {
      const adapters = ['ecr', 'ecs', 'iam', 'logs', 'ec2', 'secrets', 'ssm', 'sts'];
      const factories = [
        'createSdkEcrApi',
        'createSdkEcsApi',
        'createSdkIamApi',
        'createSdkLogsApi',
        'createSdkEc2Api',
        'createSdkSecretsApi',
        'createSdkSsmApi',
        'createSdkStsApi',
      ];
      const source = [
        ...adapters.map(
          (a, i) => `import { ${factories[i]} } from ${src(`providers/aws/api/sdk/${a}.ts`)};`,
        ),
        `const settings = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9' };`,
        ...factories.map((f) => `${f}(settings);`),
        `process.stdout.write(JSON.stringify({ ok: true }) + '\\n');`,
      ].join('\n');
      const result = await runBundled(
        `berth-clients-${Object.keys(extraEnv).length}`,
        source,
        extraEnv,
      );
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('{"ok":true}\n');
      expect(result.status).toBe(0);
    },
  );
});
