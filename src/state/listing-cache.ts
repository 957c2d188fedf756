/**
 * The code's migrations as a listing command printed them (Django's `showmigrations --plan`,
 * `alembic history`), recorded per image under `.berth/listings/`. A listing is a task: on
 * AWS a Fargate task, about a minute, started by every `migrate` and every `verify`. When the
 * tasks run an image named by its digest, the image cannot change under the name, so what
 * the listing printed for it once is what it prints again: the next command reads it here
 * and starts no listing task. A tag (`:latest`, `:abc123`) can point at another image
 * tomorrow, so nothing is recorded for one.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../core/atomic-write.js';

/** What a listing gave: the IDs in the tool's order, and whether that order says what is pending. */
export interface ListedMigrations {
  ids: string[];
  ordered: boolean;
  reason?: string;
}

/** Everything the listing's output depends on besides the image's own content. */
export interface ListingKey {
  /** The image the listing task ran, named by digest (see isPinnedImage). */
  image: string;
  command: string[];
  format: string;
  /** task.environment (berth.yaml's, never the secrets): settings can change INSTALLED_APPS. */
  environment: Record<string, string>;
}

/** How many listings are kept: one per image, the newest ones (a deploy adds one). */
export const LISTINGS_KEPT = 20;

const record = z.object({
  image: z.string(),
  command: z.array(z.string()),
  ids: z.array(z.string()).min(1),
  ordered: z.boolean(),
  reason: z.string().optional(),
  listedAt: z.string(),
});

/** `repo@sha256:…` or a bare image ID `sha256:…`: content-addressed, so it cannot move. */
export function isPinnedImage(image: string): boolean {
  return /(^|@)sha256:[0-9a-f]{64}$/.test(image);
}

function fileName(key: ListingKey): string {
  const environment = Object.entries(key.environment).sort(([a], [b]) => (a < b ? -1 : 1));
  const canonical = JSON.stringify([key.image, key.command, key.format, environment]);
  return `${createHash('sha256').update(canonical).digest('hex').slice(0, 32)}.json`;
}

export class ListingCache {
  constructor(private readonly dir: string) {}

  /** The recorded listing for `key`; undefined when there is none or it cannot be read. */
  async read(key: ListingKey): Promise<ListedMigrations | undefined> {
    let text: string;
    try {
      text = await readFile(path.join(this.dir, fileName(key)), 'utf8');
    } catch {
      return undefined;
    }
    let parsed: z.infer<typeof record>;
    try {
      parsed = record.parse(JSON.parse(text));
    } catch {
      // A torn or hand-edited record is no record: the listing task runs again.
      return undefined;
    }
    // A hash collision is not a realistic risk, but a record for another image never is one.
    if (parsed.image !== key.image || parsed.command.join('\0') !== key.command.join('\0'))
      return undefined;
    return {
      ids: parsed.ids,
      ordered: parsed.ordered,
      ...(parsed.reason !== undefined ? { reason: parsed.reason } : {}),
    };
  }

  /** Records a listing (atomically), then drops all but the LISTINGS_KEPT newest. */
  async write(key: ListingKey, listed: ListedMigrations, now = new Date()): Promise<void> {
    const body = {
      image: key.image,
      command: key.command,
      ids: listed.ids,
      ordered: listed.ordered,
      ...(listed.reason !== undefined ? { reason: listed.reason } : {}),
      listedAt: now.toISOString(),
    };
    // Not durable: a record lost in a power cut costs one listing task, nothing more.
    await writeFileAtomic(
      path.join(this.dir, fileName(key)),
      `${JSON.stringify(body, null, 2)}\n`,
      0o600,
      { durable: false },
    );
    await this.prune();
  }

  private async prune(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    if (names.length <= LISTINGS_KEPT) return;
    const aged = await Promise.all(
      names.map(async (name) => {
        const file = path.join(this.dir, name);
        const mtime = await stat(file).then(
          (s) => s.mtimeMs,
          () => 0,
        );
        return { file, mtime };
      }),
    );
    aged.sort((a, b) => b.mtime - a.mtime);
    await Promise.all(aged.slice(LISTINGS_KEPT).map(({ file }) => rm(file, { force: true })));
  }
}
