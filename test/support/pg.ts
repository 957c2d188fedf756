/** Direct SQL against a test project's embedded server, to check what berth did. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';

export async function query<T extends pg.QueryResultRow>(
  projectDir: string,
  database: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const secret = JSON.parse(
    await readFile(path.join(projectDir, '.berth/secret.json'), 'utf8'),
  ) as { username: string; password: string; host: string; port: number };
  const client = new pg.Client({
    host: secret.host,
    port: secret.port,
    user: secret.username,
    password: secret.password,
    database,
  });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export async function tableCount(projectDir: string, database: string): Promise<number> {
  const rows = await query<{ n: number }>(
    projectDir,
    database,
    "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
  );
  return rows[0]?.n ?? 0;
}

export async function appliedMigrations(projectDir: string, database: string): Promise<string[]> {
  const exists = await query<{ t: string | null }>(
    projectDir,
    database,
    "SELECT to_regclass('public.pgmigrations')::text AS t",
  );
  if (!exists[0]?.t) return [];
  return (
    await query<{ name: string }>(projectDir, database, 'SELECT name FROM pgmigrations ORDER BY id')
  ).map((r) => r.name);
}
