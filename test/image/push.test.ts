import { access, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/load-config.js';
import { RecordingReporter } from '../../src/core/events.js';
import { isBerthError } from '../../src/core/errors.js';
import { MASK, redactor } from '../../src/core/redact.js';
import {
  authorizationFromEcr,
  decodeAuthorizationToken,
  dockerLogin,
} from '../../src/image/ecr-login.js';
import { pushImage, pushToEcr } from '../../src/image/push.js';
import { ecrRegistry } from '../../src/providers/aws/ecr-registry.js';
import { readImageState } from '../../src/state/image-state.js';
import { createAwsFake } from '../../src/providers/aws/fake/aws-fake.js';
import { createSdkEcrApi } from '../../src/providers/aws/api/sdk/ecr.js';
import { SDK_TEST_SETTINGS, useFakeAwsEnvironment } from '../support/aws-sdk-env.js';
import { fakeExec, first, inspectJson, sub } from '../support/container-fakes.js';
import { baseConfig } from '../support/project.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const PASSWORD = 'ecr-password-eyJwYXlsb2FkIjoi';
const TOKEN = Buffer.from(`AWS:${PASSWORD}`).toString('base64');

const engine = () =>
  fakeExec([
    [first('info'), { stdout: '27.0.0\n' }],
    [sub('image', 'inspect'), { stdout: inspectJson({ size: 1 }) }],
    [
      (a) => a.includes('push'),
      (args) => ({
        stdout: `The push refers to repository [x]\n${(args.at(-1) ?? '').split(':').pop() ?? ''}: digest: ${DIGEST} size: 1573\n`,
      }),
    ],
    [(a) => a.includes('login'), { stdout: 'Login Succeeded\n' }],
  ]);

describe('pushImage', () => {
  it('tags for the registry, pushes each tag and returns the URI and digest', async () => {
    const exec = engine();
    const result = await pushImage({
      cli: 'docker',
      exec,
      source: 'app:abc1234',
      registry: '127.0.0.1:5000',
      repository: 'app',
      tags: ['abc1234', 'latest'],
    });
    expect(result).toEqual({
      registry: '127.0.0.1:5000',
      repository: '127.0.0.1:5000/app',
      tags: ['abc1234', 'latest'],
      uri: '127.0.0.1:5000/app:abc1234',
      digest: DIGEST,
      imageRef: `127.0.0.1:5000/app@${DIGEST}`,
    });
    expect(exec.calls.filter((c) => c.args[0] !== 'image').map((c) => c.args)).toEqual([
      ['tag', 'app:abc1234', '127.0.0.1:5000/app:abc1234'],
      ['push', '127.0.0.1:5000/app:abc1234'],
      ['tag', 'app:abc1234', '127.0.0.1:5000/app:latest'],
      ['push', '127.0.0.1:5000/app:latest'],
    ]);
  });

  it('says to build first when the local image does not exist', async () => {
    const exec = fakeExec([
      [sub('image', 'inspect'), { code: 1, stderr: 'Error: No such image: app:nope' }],
    ]);
    await expect(
      pushImage({
        cli: 'docker',
        exec,
        source: 'app:nope',
        registry: 'r',
        repository: 'app',
        tags: ['nope'],
      }),
    ).rejects.toMatchObject({
      code: 'IMAGE_PUSH_FAILED',
      hint: expect.stringContaining('berth build') as string,
    });
  });

  it('a refused connection is IMAGE_PUSH_FAILED with a hint about the registry', async () => {
    const exec = fakeExec([
      [sub('image', 'inspect'), { stdout: inspectJson({ size: 1 }) }],
      [
        first('push'),
        {
          code: 1,
          stderr:
            'Get "http://127.0.0.1:5000/v2/": dial tcp 127.0.0.1:5000: connect: connection refused',
        },
      ],
    ]);
    await expect(
      pushImage({
        cli: 'docker',
        exec,
        source: 'a:1',
        registry: '127.0.0.1:5000',
        repository: 'a',
        tags: ['1'],
      }),
    ).rejects.toMatchObject({
      code: 'IMAGE_PUSH_FAILED',
      hint: expect.stringContaining('container-lab.sh status') as string,
    });
  });
});

describe('ECR login', () => {
  let restore: () => void;
  const ecrMock = mockClient(ECRClient);
  beforeAll(() => {
    restore = useFakeAwsEnvironment();
  });
  afterEach(() => {
    ecrMock.reset();
  });
  afterAll(() => {
    ecrMock.restore();
    restore();
  });

  it('decodes the token and registers the password with the redactor', () => {
    expect(decodeAuthorizationToken(TOKEN)).toEqual({ username: 'AWS', password: PASSWORD });
    expect(redactor.redact(`password ${PASSWORD} token ${TOKEN}`)).toBe(
      `password ${MASK} token ${MASK}`,
    );
  });

  it('asks ECR GetAuthorizationToken for the registry through the SDK adapter', async () => {
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: TOKEN,
          proxyEndpoint: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com',
          expiresAt: new Date('2030-01-01T00:00:00Z'),
        },
      ],
    });
    const ecr = createSdkEcrApi(SDK_TEST_SETTINGS, new ECRClient({ region: 'us-east-1' }));
    const auth = await authorizationFromEcr(ecr)('123456789012');
    expect(auth).toEqual({
      username: 'AWS',
      password: PASSWORD,
      endpoint: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)[0]?.args[0].input).toEqual({
      registryIds: ['123456789012'],
    });
  });

  it('an access-denied token call names the missing action', async () => {
    ecrMock.on(GetAuthorizationTokenCommand).rejects(
      Object.assign(new Error('not authorized to perform: ecr:GetAuthorizationToken'), {
        name: 'AccessDeniedException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    const ecr = createSdkEcrApi(SDK_TEST_SETTINGS, new ECRClient({ region: 'us-east-1' }));
    await expect(authorizationFromEcr(ecr)()).rejects.toMatchObject({
      code: 'AWS_ACCESS_DENIED',
      hint: expect.stringContaining('ecr:GetAuthorizationToken') as string,
    });
  });

  it('passes the password on stdin, never on argv', async () => {
    const exec = engine();
    await dockerLogin(
      exec,
      'docker',
      { username: 'AWS', password: PASSWORD, endpoint: '1.dkr.ecr.us-east-1.amazonaws.com' },
      '/tmp/cfg',
    );
    const login = exec.calls[0];
    expect(login?.args).toEqual([
      '--config',
      '/tmp/cfg',
      'login',
      '--username',
      'AWS',
      '--password-stdin',
      '1.dkr.ecr.us-east-1.amazonaws.com',
    ]);
    expect(login?.options.input).toBe(PASSWORD);
    expect(JSON.stringify(exec.calls.map((c) => c.args))).not.toContain(PASSWORD);
  });

  it('a failed login is IMAGE_PUSH_FAILED and never shows the password', async () => {
    const exec = fakeExec([
      [
        (a) => a.includes('login'),
        { code: 1, stderr: `Error response: bad credentials ${PASSWORD}` },
      ],
    ]);
    try {
      await dockerLogin(
        exec,
        'docker',
        { username: 'AWS', password: PASSWORD, endpoint: 'e' },
        '/tmp/c',
      );
      expect.unreachable();
    } catch (error) {
      expect(isBerthError(error) && error.code).toBe('IMAGE_PUSH_FAILED');
      expect((error as Error).message).not.toContain(PASSWORD);
    }
  });

  it('pushes to ECR in a throwaway docker config that is removed afterwards', async () => {
    const exec = engine();
    let configDir = '';
    const result = await pushToEcr({
      cli: 'docker',
      exec: (program, args, options) => {
        if (args[0] === '--config') configDir = args[1] ?? '';
        return exec(program, args, options);
      },
      source: 'app:abc1234',
      repository: 'app',
      repositoryUri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/app',
      registryId: '123456789012',
      tags: ['abc1234', 'latest'],
      getAuthorization: () =>
        Promise.resolve({
          username: 'AWS',
          password: PASSWORD,
          endpoint: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
        }),
    });
    expect(result.imageRef).toBe(`123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${DIGEST}`);
    const pushes = exec.calls.filter((c) => c.args.includes('push'));
    expect(pushes.every((c) => c.args[0] === '--config' && c.args[1] === configDir)).toBe(true);
    await expect(access(configDir)).rejects.toThrow();
  });

  it('berth push --provider aws: repository from ECR, token from GetAuthorizationToken', async () => {
    const fake = createAwsFake();
    await fake.clients.ecr.createRepository({
      name: 'startupwebapp-backend',
      scanOnPush: true,
      encryptionType: 'AES256',
      tags: {},
    });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-push-'));
    try {
      const exec = engine();
      const config = parseConfig(stringify(baseConfig({ local: { dataDir: '.berth' } })));
      const result = await ecrRegistry({
        loaded: { config, dir, file: path.join(dir, 'berth.yaml') },
        clients: () => fake.clients,
        region: 'us-east-1',
        reporter: new RecordingReporter(),
        exec,
      }).push('abc1234');
      expect(result).toMatchObject({
        provider: 'aws',
        source: 'startupwebapp-backend:abc1234',
        uri: '123456789012.dkr.ecr.us-east-1.amazonaws.com/startupwebapp-backend:abc1234',
        digest: DIGEST,
      });
      const login = exec.calls.find((c) => c.args.includes('login'));
      expect(login?.options.input).toBe('fake-ecr-password');
      expect(login?.args.at(-1)).toBe('123456789012.dkr.ecr.us-east-1.amazonaws.com');
      expect((await readImageState(path.join(dir, '.berth'))).pushed.aws?.imageRef).toBe(
        result.imageRef,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('berth push --provider aws before `berth up` says so', async () => {
    const fake = createAwsFake();
    const config = parseConfig(stringify(baseConfig()));
    await expect(
      ecrRegistry({
        loaded: { config, dir: os.tmpdir(), file: 'berth.yaml' },
        clients: () => fake.clients,
        region: 'us-east-1',
        reporter: new RecordingReporter(),
        exec: engine(),
      }).push('abc1234'),
    ).rejects.toMatchObject({
      code: 'AWS_REFERENCE_INVALID',
      hint: expect.stringContaining('berth up') as string,
    });
  });
});
