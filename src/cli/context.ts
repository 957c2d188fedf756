/**
 * What every command starts from: the parsed global options, the loaded config, output and
 * reporter, and an AbortSignal that SIGINT/SIGTERM trip so running tasks are stopped and
 * locks released (in `finally`) instead of the process vanishing mid-run.
 */
import { findConfig, resolveProvider } from '../config/find-config.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import type { Reporter } from '../core/events.js';
import { createOutput, type Output } from './output.js';
import { createReporter } from './progress.js';

export interface GlobalOptions {
  /** undefined: BERTH_CONFIG, else found upward from the cwd (config/find-config.ts). */
  config?: string;
  json: boolean;
  provider?: 'local' | 'aws';
  profile?: string;
  region?: string;
  endpointUrl?: string;
}

export interface Context {
  globals: GlobalOptions;
  out: Output;
  reporter: Reporter;
  signal: AbortSignal;
  interrupted(): boolean;
  config(): Promise<LoadedConfig>;
  provider(loaded: LoadedConfig): 'local' | 'aws';
}

export function createContext(globals: GlobalOptions): Context {
  const out = createOutput(globals.json);
  const controller = new AbortController();
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
  return {
    globals,
    out,
    reporter: createReporter(out),
    signal: controller.signal,
    interrupted: () => controller.signal.aborted,
    config: () =>
      (loaded ??= findConfig({ explicit: globals.config }).then((found) => loadConfig(found.file))),
    provider: (l) => resolveProvider(globals.provider, l.config.provider),
  };
}
