/**
 * The AWS emulator suite's harness (test/emulator/): moto in server mode (started by
 * `../shared/aws-emulator.sh start`, see .ci/run), a recording proxy in front of it that counts
 * every API call per command, the prerequisites berth never creates (VPC, subnets, security
 * groups, database secret) seeded with the SDK, and the built CLI run as a child process with
 * nothing but the endpoint changed — as a user would run it.
 *
 * Where the endpoint comes from: BERTH_AWS_EMULATOR_ENDPOINT (what .ci/run exports, so that no
 * other test sees an AWS_ENDPOINT_URL), else AWS_ENDPOINT_URL (a developer who sourced the
 * emulator's exports). Only loopback endpoints are accepted: nothing here can reach AWS.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { SAMPLE_CONFIG_YAML } from '../../src/providers/aws/fake/sample-stack.js';
import { silenceSdkNodeVersionWarning } from '../../src/providers/aws/api/node-warning.js';
import { BERTH, type CliResult } from './project.js';

export const EMULATOR_REGION = 'us-east-1';
export const EMULATOR_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface EmulatorStatus {
  endpoint?: string;
  /** Why the suite cannot run (unset when it can). */
  problem?: string;
}

function isLoopback(url: URL): boolean {
  return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname);
}

/** Finds the emulator and checks that it answers. Never throws. */
export async function findEmulator(env: NodeJS.ProcessEnv = process.env): Promise<EmulatorStatus> {
  const raw = env.BERTH_AWS_EMULATOR_ENDPOINT || env.AWS_ENDPOINT_URL;
  if (!raw)
    return {
      problem:
        'no emulator endpoint: run `eval "$(../shared/aws-emulator.sh start)"` (or set BERTH_AWS_EMULATOR_ENDPOINT)',
    };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: `the emulator endpoint "${raw}" is not a URL` };
  }
  if (!isLoopback(url))
    return { problem: `the emulator endpoint ${raw} is not on loopback; refusing to use it` };
  const endpoint = url.origin;
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) return { problem: `the emulator at ${endpoint} answered ${response.status}` };
  } catch (error) {
    return { problem: `the emulator at ${endpoint} does not answer: ${String(error)}` };
  }
  return { endpoint };
}

/** Forgets every resource (moto's own API, never proxied or counted). */
export async function resetEmulator(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset answered ${response.status}`);
}

/** SDK client settings pointing straight at the emulator (calls the proxy does not count). */
export function sdkSettings(endpoint: string) {
  silenceSdkNodeVersionWarning();
  return { region: EMULATOR_REGION, endpoint, credentials: EMULATOR_CREDENTIALS };
}

// ---------------------------------------------------------------------------------------------
// The recording proxy

export interface ApiCall {
  /** From the request's SigV4 credential scope: ecs, ecr, logs, iam, ec2, secretsmanager, sts. */
  service: string;
  /** From X-Amz-Target (JSON protocols) or the Action parameter (query protocols). */
  action: string;
}

export interface RecordingProxy {
  url: string;
  calls: ApiCall[];
  /** The calls since `from` (an index into `calls`). */
  since(from: number): ApiCall[];
  close(): Promise<void>;
}

/** Read-only calls by their name; everything else counts as a write. */
const READ = /^(Describe|List|Get|BatchGet|BatchCheck|Filter|Lookup|Simulate)/;

export function isWrite(call: ApiCall): boolean {
  return !READ.test(call.action);
}

export function writes(calls: readonly ApiCall[]): string[] {
  return calls.filter(isWrite).map((c) => `${c.service}:${c.action}`);
}

/** The command talked to AWS (so the proxy saw it) and only read. */
export function expectNoWrites(calls: readonly ApiCall[]): void {
  expect(calls.length, 'the proxy recorded no call at all').toBeGreaterThan(0);
  expect(writes(calls)).toEqual([]);
}

export function classify(
  method: string,
  headers: http.IncomingHttpHeaders,
  body: string,
  requestUrl: string,
): ApiCall {
  const auth = String(headers.authorization ?? '');
  const service = /Credential=[^/]+\/[^/]+\/[^/]+\/([^/]+)\//.exec(auth)?.[1] ?? 'unknown';
  const target = headers['x-amz-target'];
  if (typeof target === 'string' && target.includes('.'))
    return { service, action: target.slice(target.lastIndexOf('.') + 1) };
  const fromBody = new URLSearchParams(body).get('Action');
  const fromQuery = new URL(requestUrl, 'http://x').searchParams.get('Action');
  // REST-JSON services (none berth uses today) would land here: method and path.
  return { service, action: fromBody ?? fromQuery ?? `${method} ${requestUrl}` };
}

/** An HTTP proxy on 127.0.0.1 (a random port) that records every call and forwards it. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const calls: ApiCall[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      calls.push(
        classify(req.method ?? 'POST', req.headers, body.toString('utf8'), req.url ?? '/'),
      );
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    since: (from) => calls.slice(from),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Prerequisites

export interface EmulatorPrerequisites {
  vpcId: string;
  subnetIds: [string, string];
  backendGroupId: string;
  databaseGroupId: string;
  secretArn: string;
}

export const SECRET_NAME = 'rds/startupwebapp/multi-tenant/master';
export const BACKEND_GROUP = 'startupwebapp-backend-sg';
export const DATABASE_GROUP = 'startupwebapp-rds-sg';

/** What Phase 9 built before the seed: a VPC, two private subnets, two groups, the secret. */
export async function seedEmulatorPrerequisites(endpoint: string): Promise<EmulatorPrerequisites> {
  const { EC2Client, CreateVpcCommand, CreateSubnetCommand, CreateSecurityGroupCommand } =
    await import('@aws-sdk/client-ec2');
  const { SecretsManagerClient, CreateSecretCommand } =
    await import('@aws-sdk/client-secrets-manager');
  const ec2 = new EC2Client(sdkSettings(endpoint));
  const secrets = new SecretsManagerClient(sdkSettings(endpoint));
  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
  const vpcId = vpc.Vpc?.VpcId ?? '';
  const subnet = async (cidr: string, zone: string) =>
    (
      await ec2.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone }),
      )
    ).Subnet?.SubnetId ?? '';
  const group = async (name: string) =>
    (
      await ec2.send(
        new CreateSecurityGroupCommand({
          GroupName: name,
          Description: `${name} (a prerequisite)`,
          VpcId: vpcId,
          TagSpecifications: [
            { ResourceType: 'security-group', Tags: [{ Key: 'Name', Value: name }] },
          ],
        }),
      )
    ).GroupId ?? '';
  const secret = await secrets.send(
    new CreateSecretCommand({
      Name: SECRET_NAME,
      SecretString: JSON.stringify({
        username: 'postgres',
        password: 'emulator-secret-password',
        host: 'db.internal',
        port: 5432,
      }),
    }),
  );
  ec2.destroy();
  secrets.destroy();
  return {
    vpcId,
    subnetIds: [
      await subnet('10.20.1.0/24', 'us-east-1a'),
      await subnet('10.20.2.0/24', 'us-east-1b'),
    ],
    backendGroupId: await group(BACKEND_GROUP),
    databaseGroupId: await group(DATABASE_GROUP),
    secretArn: secret.ARN ?? '',
  };
}

// ---------------------------------------------------------------------------------------------
// The project and the CLI

/** The seed's berth.yaml (the fake's sample) with the emulator's subnet IDs. */
export function emulatorConfigYaml(
  prereqs: EmulatorPrerequisites,
  patch: (yaml: string) => string = (y) => y,
): string {
  const yaml = SAMPLE_CONFIG_YAML.replace('subnet-0aaa1111', prereqs.subnetIds[0]).replace(
    'subnet-0bbb2222',
    prereqs.subnetIds[1],
  );
  return patch(yaml);
}

export interface EmulatorProject {
  dir: string;
  proxy: RecordingProxy;
  writeConfig(yaml: string): Promise<void>;
  /** Runs `node bin/berth.js ...args` through the proxy; `calls` are the API calls it made. */
  berth(args: string[]): Promise<CliResult & { calls: ApiCall[] }>;
  cleanup(): Promise<void>;
}

/**
 * The child's environment: PATH and HOME, the emulator's credentials and region, the proxy as
 * the endpoint; no profile, no shared config, no instance metadata.
 */
export function childEnvironment(endpoint: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? os.tmpdir(),
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    AWS_REGION: EMULATOR_REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: '/nonexistent/berth-emulator-aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/berth-emulator-aws-credentials',
    NO_COLOR: '1',
  };
}

export async function emulatorProject(endpoint: string, yaml: string): Promise<EmulatorProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-emulator-'));
  const proxy = await startRecordingProxy(endpoint);
  const env = childEnvironment(proxy.url);
  const project: EmulatorProject = {
    dir,
    proxy,
    writeConfig: (text) => writeFile(path.join(dir, 'berth.yaml'), text),
    async berth(args) {
      const from = proxy.calls.length;
      // Asynchronously: the proxy answers from this process's event loop.
      const result = await new Promise<CliResult>((resolve, reject) => {
        const child = spawn(process.execPath, [BERTH, ...args], {
          cwd: dir,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      return { ...result, calls: proxy.since(from) };
    },
    async cleanup() {
      await proxy.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  await project.writeConfig(yaml);
  return project;
}

/** The last stdout line as JSON (every --json command prints one document last). */
export function lastJson<T = Record<string, unknown>>(stdout: string): T {
  const lines = stdout.trim().split('\n').filter(Boolean);
  const last = lines[lines.length - 1];
  if (!last) throw new Error('no JSON on stdout');
  return JSON.parse(last) as T;
}

/**
 * In CI the suite must fail, not skip, without the emulator; elsewhere it is skipped with the
 * reason. Call at the top of a test file; returns the endpoint, or undefined to skip.
 */
export async function requireEmulator(): Promise<string | undefined> {
  const status = await findEmulator();
  if (status.endpoint) return status.endpoint;
  if (process.env.CI === 'true')
    throw new Error(`the AWS emulator suite needs the emulator in CI: ${status.problem ?? ''}`);
  console.warn(`skipping the AWS emulator suite: ${status.problem ?? ''}`);
  return undefined;
}
