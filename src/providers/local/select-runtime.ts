/**
 * Chooses the local task runtime: host processes, or containers from the stack's image.
 * `--runtime` (or local.runtime) forces one; `auto` runs containers when a container engine
 * answers AND an image for the stack exists (the one `--image` names, else the last one
 * `berth push` or `berth build` produced for this stack, if the engine still has it), and
 * host processes otherwise — and always says which and why.
 */
import path from 'node:path';
import type { LoadedConfig } from '../../config/load-config.js';
import { BerthError } from '../../core/errors.js';
import { detectEngine, ENGINE_HINT, type EngineStatus } from '../../image/engine.js';
import { exec as defaultExec, type Exec } from '../../core/exec.js';
import { inspectImage } from '../../image/inspect.js';
import { readImageState } from '../../state/image-state.js';
import type { TaskRuntime } from '../../tasks/task.js';
import type { TaskStore } from '../../state/task-store.js';
import { ContainerRuntime } from './container-runtime.js';

export type RuntimeName = 'auto' | 'process' | 'container';

export interface RuntimeChoice {
  runtime: 'process' | 'container';
  /** The image containers run (container only). */
  image?: string;
  /** Its image ID, when choosing it inspected the image (the candidates from berth's state). */
  imageId?: string;
  /** Why this runtime, in words, e.g. "no container engine (no docker CLI on PATH)". */
  reason: string;
}

export interface ChooseRuntimeDeps {
  detect?: (cli: string) => Promise<EngineStatus>;
  exec?: Exec;
}

export function parseRuntime(value: string | undefined, fallback: RuntimeName): RuntimeName {
  const choice = value ?? fallback;
  if (choice !== 'auto' && choice !== 'process' && choice !== 'container') {
    throw new BerthError('USAGE', `--runtime must be auto, process or container, got "${choice}"`);
  }
  return choice;
}

/**
 * The images this stack's own state (`.berth/images.json`) says were built or pushed, newest
 * first. Only those count: an image that merely shares the repository name (another checkout,
 * another test project) could hold different code or migrations.
 */
export async function candidateImages(loaded: LoadedConfig): Promise<string[]> {
  const { config, dir } = loaded;
  const state = await readImageState(path.resolve(dir, config.local.dataDir));
  const pushed = state.pushed.local;
  const built = state.built.production;
  const recorded: string[] = [];
  if (pushed && built && built.builtAt > pushed.pushedAt) recorded.push(built.ref, pushed.imageRef);
  else {
    if (pushed) recorded.push(pushed.imageRef);
    if (built) recorded.push(built.ref);
  }
  return [...new Set(recorded)];
}

export async function chooseRuntime(
  loaded: LoadedConfig,
  requested: string | undefined,
  image: string | undefined,
  deps: ChooseRuntimeDeps = {},
): Promise<RuntimeChoice> {
  const { config } = loaded;
  const choice = parseRuntime(requested, config.local.runtime);
  if (choice === 'process') return { runtime: 'process', reason: 'runtime: process' };
  const cli = config.local.containerCli;
  const engine = await (deps.detect ?? detectEngine)(cli);
  if (!engine.available) {
    if (choice === 'container') {
      throw new BerthError(
        'CONTAINER_ENGINE_UNAVAILABLE',
        `--runtime container needs a container engine: ${engine.reason ?? 'none answers'}`,
        { hint: ENGINE_HINT, source: 'environment' },
      );
    }
    return {
      runtime: 'process',
      reason: `no container engine (${engine.reason ?? 'none answers'})`,
    };
  }
  if (image) {
    return { runtime: 'container', image, reason: `--image ${image}` };
  }
  const exec = deps.exec ?? defaultExec;
  for (const candidate of await candidateImages(loaded)) {
    const found = await inspectImage(exec, cli, candidate);
    if (found) {
      return {
        runtime: 'container',
        image: candidate,
        ...(found.id ? { imageId: found.id } : {}),
        reason: `container engine ${engine.version ?? ''} and image ${candidate}`.replace(
          '  ',
          ' ',
        ),
      };
    }
  }
  if (choice === 'container') {
    throw new BerthError(
      'USAGE',
      `--runtime container: there is no image for ${config.registry.name}`,
      {
        hint: 'run `berth build` (and `berth push`) first, or pass --image REF',
      },
    );
  }
  return {
    runtime: 'process',
    reason: `no image for ${config.registry.name} yet (run \`berth build\`)`,
  };
}

/** The ContainerRuntime factory for `image`, with the task settings from config. */
export function containerFactory(
  loaded: LoadedConfig,
  image: string,
  runId?: string,
  imageId?: string,
): (store: TaskStore, cwd: string) => TaskRuntime {
  const { config } = loaded;
  return (store) =>
    new ContainerRuntime({
      cli: config.local.containerCli,
      image,
      ...(imageId ? { imageId } : {}),
      store,
      user: config.task.user,
      readonlyRootFilesystem: config.task.readonlyRootFilesystem,
      cpu: config.task.cpu / 1024,
      memoryMiB: config.task.memory,
      labels: { 'berth.stack': config.app },
      ...(runId ? { runId } : {}),
    });
}
