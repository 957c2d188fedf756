/**
 * What every command starts from: the parsed global options, the loaded config, output and
 * reporter, the provider, and an AbortSignal that SIGINT/SIGTERM trip so running tasks are
 * stopped and locks released (in `finally`) instead of the process vanishing mid-run.
 */
import { setMaxListeners } from 'node:events';
import { findConfig, resolveProvider } from '../config/find-config.js';
import { LIMITS } from '../config/limits.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import type { Reporter } from '../core/events.js';
import type { Exec } from '../core/exec.js';
import type { AwsClientsFactory } from '../providers/aws/api/clients.js';
import { openProvider } from '../providers/open-provider.js';
import type { Provider, ProviderName } from '../providers/provider.js';
import { createOutput, type Output } from './output.js';
import { createReporter } from './progress.js';

export interface GlobalOptions {
  /** undefined: BERTH_CONFIG, else found upward from the cwd (config/find-config.ts). */
  config?: string;
  json: boolean;
  provider?: ProviderName;
  profile?: string;
  region?: string;
  endpointUrl?: string;
}

/**
 * What a test may replace: the AWS SDK (the in-memory fake), time, git and the container
 * CLI, the terminal prompt. Production passes none of them.
 */
export interface CommandDeps {
  createClients?: AwsClientsFactory;
  env?: NodeJS.ProcessEnv;
  /** Wall clock stamped on `up`'s outputs. */
  now?: () => Date;
  /** Milliseconds now, and the sleep between polls: both, or neither. */
  clock?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  pollMs?: number;
  exec?: Exec;
  confirm?: (what: string, expected: string, yes: boolean) => Promise<void>;
}

export interface Context {
  globals: GlobalOptions;
  out: Output;
  reporter: Reporter;
  signal: AbortSignal;
  interrupted(): boolean;
  config(): Promise<LoadedConfig>;
  /** The provider named by --provider, else by berth.yaml; `fallback` replaces berth.yaml's. */
  open(deps?: CommandDeps, fallback?: ProviderName): Promise<Provider>;
}

/**
 * Abort listeners the run's signal may carry before Node warns of a leak: every task in
 * flight holds a few at once (its poll, its sleep, its process), up to fleet.concurrency's
 * maximum, each removed as the task ends. Node's default of 10 printed
 * MaxListenersExceededWarning on berth's stderr at a concurrency above 10 on AWS.
 */
export const RUN_SIGNAL_MAX_LISTENERS = 4 * LIMITS['fleet.concurrency'].max + 16;

/** The signal SIGINT/SIGTERM trip: one per command, shared by everything the run starts. */
export function runAbortController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(RUN_SIGNAL_MAX_LISTENERS, controller.signal);
  return controller;
}

export function createContext(globals: GlobalOptions): Context {
  const out = createOutput(globals.json);
  const controller = runAbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      out.note(
        `\n${sig}: stopping running tasks and releasing locks (press Ctrl-C again to force)…`,
      );
      controller.abort();
    } else process.kill(process.pid, 'SIGKILL');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let loaded: Promise<LoadedConfig> | undefined;
  return contextOf(
    globals,
    out,
    createReporter(out),
    controller.signal,
    () =>
      (loaded ??= findConfig({ explicit: globals.config }).then((found) => loadConfig(found.file))),
  );
}

/** A Context from its parts (the CLI's, or a test's with captured output). */
export function contextOf(
  globals: GlobalOptions,
  out: Output,
  reporter: Reporter,
  signal: AbortSignal,
  config: () => Promise<LoadedConfig>,
): Context {
  return {
    globals,
    out,
    reporter,
    signal,
    interrupted: () => signal.aborted,
    config,
    async open(deps = {}, fallback) {
      const l = await config();
      return openProvider(l, {
        name: resolveProvider(globals.provider, fallback ?? l.config.provider, deps.env),
        reporter,
        ...(globals.profile ? { profile: globals.profile } : {}),
        ...(globals.region ? { region: globals.region } : {}),
        ...(globals.endpointUrl ? { endpointUrl: globals.endpointUrl } : {}),
        ...(deps.env ? { env: deps.env } : {}),
        ...(deps.createClients ? { createClients: deps.createClients } : {}),
        ...(deps.clock && deps.sleep ? { clock: { now: deps.clock, sleep: deps.sleep } } : {}),
        ...(deps.pollMs !== undefined ? { pollMs: deps.pollMs } : {}),
        ...(deps.exec ? { exec: deps.exec } : {}),
        ...(deps.now ? { wallClock: deps.now } : {}),
      });
    },
  };
}
