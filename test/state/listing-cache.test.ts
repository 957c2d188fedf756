/**
 * Listings recorded per image (src/state/listing-cache.ts): a record is found only for the
 * same image, command, format and task environment; a torn record is no record; only the
 * newest LISTINGS_KEPT stay.
 */
import { readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  isPinnedImage,
  ListingCache,
  LISTINGS_KEPT,
  type ListingKey,
} from '../../src/state/listing-cache.js';
import { tempDir } from '../support/temp-dir.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const KEY: ListingKey = {
  image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/app@${DIGEST}`,
  command: ['python3', 'manage.py', 'showmigrations', '--plan'],
  format: 'django-plan',
  environment: { DJANGO_SETTINGS_MODULE: 'app.settings', LANG: 'C.UTF-8' },
};
const LISTED = { ids: ['contenttypes.0001_initial', 'auth.0001_initial'], ordered: true };

describe('isPinnedImage', () => {
  it('accepts a digest reference or an image ID, never a tag', () => {
    expect(isPinnedImage(KEY.image)).toBe(true);
    expect(isPinnedImage(DIGEST)).toBe(true);
    expect(isPinnedImage('registry.example/app:abc1234')).toBe(false);
    expect(isPinnedImage('app:latest')).toBe(false);
    expect(isPinnedImage(`app@sha256:${'a'.repeat(63)}`)).toBe(false);
  });
});

describe('ListingCache', () => {
  it('returns what was recorded for the same key, and nothing for any other', async () => {
    const cache = new ListingCache(await tempDir('berth-listings-'));
    expect(await cache.read(KEY)).toBeUndefined();
    await cache.write(KEY, LISTED);
    expect(await cache.read(KEY)).toEqual(LISTED);
    // The same environment with its entries in another order.
    expect(
      await cache.read({
        ...KEY,
        environment: { LANG: 'C.UTF-8', DJANGO_SETTINGS_MODULE: 'app.settings' },
      }),
    ).toEqual(LISTED);
    for (const other of [
      { ...KEY, image: KEY.image.replace('a'.repeat(64), 'b'.repeat(64)) },
      { ...KEY, command: ['python3', 'manage.py', 'showmigrations', '-p'] },
      { ...KEY, format: 'alembic-history' },
      { ...KEY, environment: { DJANGO_SETTINGS_MODULE: 'app.other_settings' } },
    ])
      expect(await cache.read(other)).toBeUndefined();
  });

  it('keeps an unordered listing with its reason', async () => {
    const cache = new ListingCache(await tempDir('berth-listings-'));
    const branched = { ids: ['b1', 'b2'], ordered: false, reason: 'branches' };
    await cache.write(KEY, branched);
    expect(await cache.read(KEY)).toEqual(branched);
  });

  it('treats a torn or foreign record as none', async () => {
    const dir = await tempDir('berth-listings-');
    const cache = new ListingCache(dir);
    await cache.write(KEY, LISTED);
    const [file] = await readdir(dir);
    if (!file) throw new Error('no record written');
    await writeFile(path.join(dir, file), '{"image": "x", "ids": [');
    expect(await cache.read(KEY)).toBeUndefined();
    // A well-formed record for another image under this key's name (a collision) is not used.
    await writeFile(
      path.join(dir, file),
      JSON.stringify({ ...LISTED, image: 'other@sha256:1', command: KEY.command, listedAt: 'x' }),
    );
    expect(await cache.read(KEY)).toBeUndefined();
  });

  it(`keeps the ${LISTINGS_KEPT} newest records`, async () => {
    const dir = await tempDir('berth-listings-');
    const cache = new ListingCache(dir);
    const keyFor = (i: number): ListingKey => ({
      ...KEY,
      image: KEY.image.replace('a'.repeat(64), i.toString(16).padStart(64, '0')),
    });
    for (let i = 0; i < LISTINGS_KEPT; i++) await cache.write(keyFor(i), LISTED);
    // Ages apart by seconds, so the order does not hang on the file system's clock grain.
    const files = await readdir(dir);
    await Promise.all(files.map((name, i) => utimes(path.join(dir, name), 1_000 + i, 1_000 + i)));
    const oldest = files[0];
    await cache.write(keyFor(LISTINGS_KEPT), LISTED);
    const left = await readdir(dir);
    expect(left).toHaveLength(LISTINGS_KEPT);
    expect(left).not.toContain(oldest);
    expect(await cache.read(keyFor(LISTINGS_KEPT))).toEqual(LISTED);
  });
});
