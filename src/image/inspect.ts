/** What berth reads about a local image from `docker image inspect`. */
import { BerthError } from '../core/errors.js';
import { engineEnv, lastLines, type Exec } from '../core/exec.js';

export interface ImageInfo {
  id: string;
  sizeBytes: number;
  /** Config.User; '' means root. */
  user: string;
  /** Config.Healthcheck.Test, e.g. ["CMD","node","/app/dist/healthcheck.js"]; [] when none. */
  healthcheck: string[];
  workingDir: string;
  repoDigests: string[];
}

interface InspectShape {
  Id?: string;
  Size?: number;
  RepoDigests?: string[] | null;
  Config?: {
    User?: string;
    WorkingDir?: string;
    Healthcheck?: { Test?: string[] | null } | null;
  } | null;
}

/** undefined when the engine has no such image. */
export async function inspectImage(
  exec: Exec,
  cli: string,
  ref: string,
): Promise<ImageInfo | undefined> {
  const result = await exec(cli, ['image', 'inspect', '--format', '{{json .}}', ref], {
    env: engineEnv(),
  });
  if (result.code !== 0) {
    if (/no such (image|object)/i.test(result.stderr)) return undefined;
    throw new BerthError(
      'CONTAINER_ENGINE_UNAVAILABLE',
      `${cli} image inspect ${ref} failed: ${lastLines(result.stderr || (result.error?.message ?? ''), 3).join(' ')}`,
      { source: 'environment' },
    );
  }
  const raw = JSON.parse(result.stdout) as InspectShape;
  return {
    id: raw.Id ?? '',
    sizeBytes: raw.Size ?? 0,
    user: raw.Config?.User ?? '',
    healthcheck: raw.Config?.Healthcheck?.Test ?? [],
    workingDir: raw.Config?.WorkingDir ?? '',
    repoDigests: raw.RepoDigests ?? [],
  };
}

/** "198 MB" (decimal megabytes, as `docker images` shows them). */
export function formatSize(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.round(bytes / 1e3)} kB`;
}
