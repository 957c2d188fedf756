// A node-pg-migrate migration loader (the documented `migrationLoaderStrategies` hook) for
// its SQL file format:
//
//   -- Up Migration
//   CREATE TABLE ...;
//   -- Down Migration
//   DROP TABLE ...;
//
// We load the files ourselves instead of using the built-in 'legacySql' loader only to learn
// when each migration starts; the markers are matched the same way node-pg-migrate does.
import { readFile } from 'node:fs/promises';
import type { MigrationBuilder, RunnerOption } from 'node-pg-migrate';

type LoaderStrategy = NonNullable<RunnerOption['migrationLoaderStrategies']>[number];
type MigrationLoader = Exclude<LoaderStrategy['loader'], string>;
type MigrationUnit = Awaited<ReturnType<MigrationLoader>>[number];

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

/**
 * Loads SQL migration files. `onUp(filePath)` runs when the runner builds that migration's
 * up step, which it does immediately before sending the SQL (inside the migration's
 * transaction), and only for migrations that are actually pending.
 */
export async function loadSqlMigrations(
  filePaths: readonly string[],
  onUp: (filePath: string) => void,
): Promise<MigrationUnit[]> {
  return Promise.all(
    filePaths.map(async (filePath): Promise<MigrationUnit> => {
      const { up, down } = parseSqlMigration(await readFile(filePath, 'utf8'), filePath);
      return {
        id: filePath,
        filePaths: [filePath],
        actions: {
          up: (pgm: MigrationBuilder) => {
            onUp(filePath);
            pgm.sql(up);
          },
          // `false` tells node-pg-migrate the migration is irreversible.
          down: down === undefined ? false : (pgm: MigrationBuilder) => pgm.sql(down),
        },
      };
    }),
  );
}
