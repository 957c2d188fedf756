/**
 * The one home of berth's local state: `local.dataDir` (`.berth/` by default) is read here
 * and nowhere else. Both providers keep task records and logs, run journals and image state
 * under it, so `berth logs`, `berth runs` and `--resume` work the same on local and aws.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BerthError, errorMessage } from '../core/errors.js';
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

/**
 * The kernel file system a path lies in (/proc, /sys, /dev), where no state can live: Node's
 * recursive mkdir under /proc loops for ever instead of failing. Undefined for any other path.
 */
export function kernelFilesystem(dir: string): string | undefined {
  const resolved = path.resolve(dir);
  return ['/proc', '/sys', '/dev'].find((k) => resolved === k || resolved.startsWith(`${k}/`));
}

/**
 * Makes sure berth can write everything a run writes (task records and logs, the run
 * journal) before anything starts: an unwritable or full state directory is exit 7 naming
 * the path, never a crash halfway through a fleet. Directories are private (0700).
 */
export async function assertStateWritable(state: StateDir): Promise<void> {
  const { root, logs, tasks, runs } = state.paths;
  const kernel = kernelFilesystem(root);
  if (kernel)
    throw new BerthError(
      'STATE_UNWRITABLE',
      `cannot write berth's state to ${root}: it is inside ${kernel}, a kernel file system`,
      { hint: 'point local.dataDir at a directory on a disk', source: 'environment' },
    );
  for (const dir of [root, logs, tasks, runs]) {
    const probe = path.join(dir, `.berth-write-check-${process.pid}`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFile(probe, 'ok\n', { mode: 0o600 });
      await rm(probe, { force: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new BerthError(
        'STATE_UNWRITABLE',
        `cannot write berth's state to ${dir}: ${errorMessage(error)}`,
        {
          hint:
            code === 'ENOSPC'
              ? 'the disk is full: free space, or point local.dataDir at another disk'
              : 'make it a writable directory (check its owner and mode, and that no file sits at that path), or point local.dataDir elsewhere',
          source: 'environment',
          cause: error,
        },
      );
    }
  }
}
