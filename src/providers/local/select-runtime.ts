/**
 * Chooses the local task runtime: host processes, or containers from the built image when
 * a container engine answers. `--runtime` (or local.runtime) forces one.
 */
import type { LoadedConfig } from '../../config/load-config.js';
import { BerthError } from '../../core/errors.js';
import type { TaskRuntime } from '../../tasks/task.js';
import type { TaskStore } from '../../tasks/task-store.js';

export type RuntimeFactory = ((store: TaskStore, cwd: string) => TaskRuntime) | undefined;

export function runtimeFactory(
  loaded: LoadedConfig,
  requested: string | undefined,
  _image: string | undefined,
): Promise<RuntimeFactory> {
  return Promise.resolve().then(() => pickRuntime(loaded, requested));
}

function pickRuntime(loaded: LoadedConfig, requested: string | undefined): RuntimeFactory {
  const choice = requested ?? loaded.config.local.runtime;
  if (choice !== 'auto' && choice !== 'process' && choice !== 'container') {
    throw new BerthError('USAGE', `--runtime must be auto, process or container, got "${choice}"`);
  }
  if (choice === 'container') {
    throw new BerthError(
      'CONTAINER_ENGINE_UNAVAILABLE',
      'the container runtime is not part of this build of berth yet',
      {
        hint: 'use --runtime process',
      },
    );
  }
  // auto and process: host processes (the container runtime arrives with the image work).
  return undefined;
}
