import { mkdir, rename, writeFile, open } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that readers see either the old or the new content, never a torn one:
 * write a sibling temp file, fsync (unless `durable: false`, for records that are cheap to
 * lose in a power cut, such as per-task status), rename over. `mode` applies from the first
 * byte, so a secret is never briefly world-readable. Every caller writes berth's state, so the
 * default is private: files 0600, directories created on the way 0700.
 */
export async function writeFileAtomic(
  file: string,
  data: string,
  mode = 0o600,
  { durable = true }: { durable?: boolean } = {},
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, data, { mode });
  if (durable) {
    const handle = await open(temp, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  await rename(temp, file);
}
