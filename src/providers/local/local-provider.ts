/**
 * The local provider: the embedded PostgreSQL server under `.berth/`, tasks as host
 * processes or as containers from the stack's image, a loopback OCI registry when
 * `registry.local` is set, logs in files.
 */
import path from 'node:path';
import pg from 'pg';
import type { LoadedConfig } from '../../config/load-config.js';
import { BerthError, isBerthError } from '../../core/errors.js';
import type { Reporter } from '../../core/events.js';
import { exec as defaultExec, type Exec } from '../../core/exec.js';
import { checkConfigPaths } from '../../config/check-paths.js';
import { localTaskSecrets } from './task-secrets.js';
import { tenantQueryRunner } from '../../fleet/tenant-query.js';
import { discoverTenants } from '../../fleet/tenants.js';
import type { ProbeResult } from '../../fleet/types.js';
import { detectEngine, ENGINE_HINT, requireEngine } from '../../image/engine.js';
import { pushImage } from '../../image/push.js';
import { inspectImage } from '../../image/inspect.js';
import { gitInfo } from '../../image/tags.js';
import { ListingCache } from '../../state/listing-cache.js';
import { recordPush } from '../../image/stack.js';
import { assertStateWritable, openStateDir, type StateDir } from '../../state/state-dir.js';
import type { TaskRuntime } from '../../tasks/task.js';
import type {
  DatabaseStatusRow,
  FleetRequest,
  OpenedFleet,
  Provider,
  ProviderStatus,
  RegistryPush,
} from '../provider.js';
import { LocalBackend } from './local-backend.js';
import { localTaskControl } from './local-tasks.js';
import { LocalPostgres, clientConfig } from './postgres-server.js';
import { ProcessRuntime } from './process-runtime.js';
import {
  chooseRuntime,
  containerFactory,
  parseRuntime,
  type RuntimeChoice,
} from './select-runtime.js';

export interface LocalProviderOptions {
  reporter: Reporter;
  exec?: Exec;
}

export function localProvider(loaded: LoadedConfig, options: LocalProviderOptions): Provider {
  const { config, dir } = loaded;
  const state: StateDir = openStateDir(loaded);
  const postgres = new LocalPostgres({
    paths: state.paths,
    port: config.local.port,
    maxConnections: config.local.maxConnections,
    postgresVersion: config.local.postgresVersion,
  });
  const exec = options.exec ?? defaultExec;
  const cwd = path.resolve(dir, config.local.workdir);
  const backends: LocalBackend[] = [];
  const say = (text: string) => options.reporter.emit({ type: 'message', level: 'info', text });

  // A tenant query runs read-only and must return one column of non-null names.
  const tenants = () =>
    discoverTenants(
      config,
      dir,
      tenantQueryRunner(async (database) => {
        const client = new pg.Client(clientConfig(await postgres.ensureRunning(), database));
        await client.connect();
        return { client, end: () => client.end() };
      }),
    );

  const listings = new ListingCache(state.paths.listings);
  const backendWith = (runtime: TaskRuntime, imageId?: string) => {
    const backend = new LocalBackend({
      config,
      configDir: dir,
      postgres,
      runtime,
      // Container tasks run one image ID, which names what a listing printed; host processes
      // have none.
      ...(imageId !== undefined
        ? { listings: { cache: listings, image: () => Promise.resolve(imageId) } }
        : {}),
    });
    backends.push(backend);
    return backend;
  };

  /**
   * The image's ID (content-addressed) as the engine resolves the reference now; undefined
   * when the engine has no such image yet (`docker run` then pulls the reference).
   */
  const localImageId = async (image: string): Promise<string | undefined> =>
    (await inspectImage(exec, config.local.containerCli, image))?.id || undefined;

  /** The runtime rule (select-runtime.ts), or only the image this request names. */
  const choose = async (request: FleetRequest): Promise<RuntimeChoice> => {
    if (request.image !== null) return chooseRuntime(loaded, request.runtime, request.image);
    if (request.runtime === 'container')
      throw new BerthError('USAGE', '--runtime container, but no image was built', {
        hint: 'see the build stage, or use --runtime process',
      });
    return { runtime: 'process', reason: request.imageReason ?? 'no image' };
  };

  return {
    name: 'local',
    loaded,
    state,
    tasksRunHere: true,
    tenants,

    checkConfig: (purpose) =>
      checkConfigPaths(loaded, {
        for: purpose,
        tasksRunHere: true,
        imageRequired: false,
        awsFields: false,
      }),

    async checkFleetRequest(request) {
      await checkConfigPaths(loaded, {
        for: request.purpose,
        tasksRunHere: true,
        imageRequired: false,
        awsFields: false,
      });
      await assertStateWritable(state);
      // A migration run starts tasks: each of task.secrets must be in berth's environment,
      // checked before the run is journaled or any database created (task-secrets.ts).
      if (request.purpose === 'migrate') localTaskSecrets(config);
      if (parseRuntime(request.runtime, config.local.runtime) !== 'container') return;
      const engine = await detectEngine(config.local.containerCli);
      if (!engine.available)
        throw new BerthError(
          'CONTAINER_ENGINE_UNAVAILABLE',
          `--runtime container needs a container engine: ${engine.reason ?? 'none answers'}`,
          { hint: ENGINE_HINT, source: 'environment' },
        );
    },

    async openFleet(request: FleetRequest): Promise<OpenedFleet> {
      const choice = await choose(request);
      // Resolved once (by the choice when it inspected the image already): every task of the
      // run, and its listing, starts from this one image.
      const imageId =
        choice.runtime === 'container' && choice.image
          ? (choice.imageId ?? (await localImageId(choice.image)))
          : undefined;
      const runtime =
        choice.runtime === 'container' && choice.image
          ? containerFactory(loaded, choice.image, undefined, imageId)(state.tasks, dir)
          : new ProcessRuntime({ cwd, store: state.tasks });
      const reason = choice.image && request.imageReason ? request.imageReason : choice.reason;
      say(
        choice.runtime === 'container'
          ? `tasks run as containers from ${choice.image ?? ''} (${reason})`
          : `tasks run as host processes: ${reason}`,
      );
      const where = choice.runtime === 'container' ? 'as containers' : 'as host processes';
      return {
        backend: backendWith(runtime, imageId),
        where: () => Promise.resolve(where),
        facts: () => Promise.resolve({ runtime: { ...choice, reason } }),
      };
    },

    tasks: localTaskControl(state),

    async status(): Promise<ProviderStatus> {
      const running = await postgres.isRunning();
      const secret = await postgres.secret();
      const tenantsKnownOffline =
        Array.isArray(config.database.tenants) || 'file' in config.database.tenants;
      const fleet = tenantsKnownOffline || running ? await tenants() : [];
      const probes = new Map<string, ProbeResult>();
      let pendingUnknown: string | undefined;
      if (running) {
        const backend = backendWith(new ProcessRuntime({ cwd, store: state.tasks }));
        const onProbe = (p: ProbeResult) => probes.set(p.database, p);
        try {
          await backend.probe(fleet, onProbe);
        } catch (error) {
          // The listing could not run (Django without its virtualenv, …): status still shows
          // what exists, with pending unknown and why.
          if (!isBerthError(error) || error.code !== 'MIGRATIONS_LIST_FAILED') throw error;
          pendingUnknown = error.hint ? `${error.message} (${error.hint})` : error.message;
          await backend.probe(fleet, onProbe, undefined, { withoutKnown: true });
        }
      }
      const expected = config.database.expectedTables ?? null;
      const databases: DatabaseStatusRow[] = fleet.map((name) => {
        const p = probes.get(name);
        return running && p && !p.error
          ? {
              name,
              exists: p.exists,
              tables: p.tables ?? null,
              expectedTables: expected,
              pending: p.pendingKnown ? p.pending.length : null,
            }
          : { name, exists: null, tables: null, expectedTables: expected, pending: null };
      });
      return {
        kind: 'database-server',
        provider: 'local',
        postgres: {
          state: running ? 'up' : postgres.isInitialised() ? 'down' : 'not initialised',
          version: config.local.postgresVersion,
          host: secret?.host ?? '127.0.0.1',
          port: secret?.port ?? null,
          dataDir: state.paths.pgdata,
        },
        databases,
        ...(pendingUnknown ? { pendingUnknown } : {}),
      };
    },

    registry: {
      required: false,
      unavailable: () =>
        config.registry.local
          ? undefined
          : 'registry.local is not set; tasks run the locally built image',
      async push(tag, signal): Promise<RegistryPush> {
        const registry = config.registry.local;
        if (!registry)
          throw new BerthError(
            'CONFIG_INVALID',
            'registry.local is not set: the local provider has no registry to push to',
            {
              hint: 'set registry.local in berth.yaml (the container lab runs one on 127.0.0.1:5000), or push with --provider aws',
            },
          );
        const cli = config.local.containerCli;
        await requireEngine(cli, exec);
        const version = tag || (await gitInfo(exec, path.resolve(dir, config.image.context))).tag;
        const source = `${config.registry.name}:${version}`;
        say(`pushing ${source} to ${registry}/${config.registry.name}`);
        const result = await pushImage({
          cli,
          exec,
          source,
          registry,
          repository: config.registry.name,
          tags: version === 'latest' ? ['latest'] : [version, 'latest'],
          ...(signal ? { signal } : {}),
        });
        await recordPush(loaded, 'local', result);
        return { ...result, provider: 'local', source };
      },
    },

    server: {
      async start() {
        const secret = await postgres.ensureRunning();
        return {
          host: secret.host,
          port: secret.port,
          user: secret.username,
          dataDir: state.paths.pgdata,
          secretFile: state.paths.secret,
        };
      },
      stop: () => postgres.stop(),
    },

    async close() {
      await Promise.all(backends.map((b) => b.close().catch(() => undefined)));
    },
  };
}
