/**
 * Image tags: the seed tags the production image with the git commit SHA (traceability) and
 * `latest`. berth adds `-dirty` when the work tree has uncommitted changes, so a tag never
 * claims a commit the image was not built from, and marks development images with a `-dev`
 * suffix in the same repository (one ECR repository; `berth push` only ever pushes
 * production).
 */
import type { Exec } from '../core/exec.js';

export type ImageTarget = 'development' | 'production';
export const IMAGE_TARGETS: readonly ImageTarget[] = ['development', 'production'];

export interface GitInfo {
  /** Short commit SHA; undefined outside a git repository (or before the first commit). */
  sha?: string;
  dirty: boolean;
  /** The version tag: `<sha>`, `<sha>-dirty`, or `nogit-<UTC timestamp>`. */
  tag: string;
}

export async function gitInfo(exec: Exec, dir: string, now = new Date()): Promise<GitInfo> {
  const head = await exec('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir });
  const sha = head.code === 0 ? head.stdout.trim() : '';
  if (!sha) {
    const stamp = now
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, '');
    return { dirty: false, tag: `nogit-${stamp}` };
  }
  const status = await exec('git', ['status', '--porcelain', '--untracked-files=normal'], {
    cwd: dir,
  });
  const dirty = status.code !== 0 || status.stdout.trim() !== '';
  return { sha, dirty, tag: dirty ? `${sha}-dirty` : sha };
}

/** The tag of `target` for version `version` (`abc1234` → `abc1234-dev` for development). */
export function targetTag(version: string, target: ImageTarget): string {
  return target === 'development' ? `${version}-dev` : version;
}

/** Every local reference a build of `target` gets: the version tag first, then latest. */
export function imageTags(repository: string, version: string, target: ImageTarget): string[] {
  return [
    `${repository}:${targetTag(version, target)}`,
    `${repository}:${targetTag('latest', target)}`,
  ];
}
