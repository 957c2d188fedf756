/**
 * What berth last built and pushed, kept in the local state directory (`.berth/images.json`)
 * so later commands know which image the stack runs: `migrate --runtime auto` uses the last
 * pushed (else built) production image, `push` knows what `build` produced.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic-write.js';
import type { ImageTarget } from '../image/tags.js';

export interface BuiltRecord {
  /** The version tag reference, e.g. startupwebapp-backend:abc1234. */
  ref: string;
  tags: string[];
  /** The engine's image ID (sha256:…). */
  id: string;
  sizeBytes: number;
  version: string;
  builtAt: string;
}

export interface PushedRecord {
  provider: 'local' | 'aws';
  /** registry/repository:tag */
  uri: string;
  /** sha256:… of the pushed manifest. */
  digest: string;
  /** registry/repository@digest: what tasks run. */
  imageRef: string;
  pushedAt: string;
}

export interface ImageState {
  built: Partial<Record<ImageTarget, BuiltRecord>>;
  pushed: Partial<Record<'local' | 'aws', PushedRecord>>;
}

export function imageStateFile(stateRoot: string): string {
  return path.join(stateRoot, 'images.json');
}

export async function readImageState(stateRoot: string): Promise<ImageState> {
  try {
    const parsed = JSON.parse(
      await readFile(imageStateFile(stateRoot), 'utf8'),
    ) as Partial<ImageState>;
    return { built: parsed.built ?? {}, pushed: parsed.pushed ?? {} };
  } catch {
    return { built: {}, pushed: {} };
  }
}

export async function updateImageState(
  stateRoot: string,
  change: (state: ImageState) => void,
): Promise<void> {
  const state = await readImageState(stateRoot);
  change(state);
  await writeFileAtomic(imageStateFile(stateRoot), `${JSON.stringify(state, null, 2)}\n`);
}
