/**
 * The one home of berth's local state: `local.dataDir` (`.berth/` by default) is read here
 * and nowhere else. Both providers keep task records and logs, run journals and image state
 * under it, so `berth logs`, `berth runs` and `--resume` work the same on local and aws.
 */
import path from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import { statePaths, type StatePaths } from './paths.js';
import { TaskStore } from './task-store.js';

export interface StateDir {
  paths: StatePaths;
  /** Task records (`tasks/`) and their logs (`logs/`). */
  tasks: TaskStore;
}

export function stateRoot(loaded: LoadedConfig): string {
  return path.resolve(loaded.dir, loaded.config.local.dataDir);
}

export function openStateDir(loaded: LoadedConfig): StateDir {
  const paths = statePaths(stateRoot(loaded));
  return { paths, tasks: new TaskStore(paths.tasks, paths.logs) };
}
