// node-pg-migrate's SQL file format:
//
//   -- Up Migration
//   CREATE TABLE ...;
//   -- Down Migration
//   DROP TABLE ...;
//
// The markers are matched the same way node-pg-migrate matches them, so its CLI (used by the
// tests to run the Down sections) reads these files exactly as the app's runner does.
import { readFile } from 'node:fs/promises';

export interface SqlMigration {
  readonly up: string;
  readonly down: string | undefined;
}

const marker = (direction: 'up' | 'down'): RegExp =>
  new RegExp(`^\\s*--[\\s-]*${direction}\\s+migration`, 'im');

/** Splits a file into its Up and Down sections. Text before "-- Up Migration" is a header. */
export function parseSqlMigration(content: string, source: string): SqlMigration {
  const upStart = content.search(marker('up'));
  const downStart = content.search(marker('down'));
  if (upStart < 0) throw new Error(`${source}: missing "-- Up Migration" section`);
  if (downStart >= 0 && downStart < upStart) {
    throw new Error(`${source}: "-- Down Migration" must come after "-- Up Migration"`);
  }
  return downStart < 0
    ? { up: content.slice(upStart), down: undefined }
    : { up: content.slice(upStart, downStart), down: content.slice(downStart) };
}

/** Reads one migration file and splits it into its sections. */
export async function readSqlMigration(filePath: string): Promise<SqlMigration> {
  return parseSqlMigration(await readFile(filePath, 'utf8'), filePath);
}
