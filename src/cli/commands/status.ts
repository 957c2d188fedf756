import { ExitCode } from '../../core/exit-codes.js';
import type { ProbeResult } from '../../fleet/types.js';
import { openLocal } from '../../providers/local/open-local.js';
import type { Context } from '../context.js';
import { table } from '../output.js';

/** Local status never starts anything: it reports what is there. */
export async function statusCommand(ctx: Context): Promise<number> {
  const loaded = await ctx.config();
  if (ctx.provider(loaded) === 'aws') {
    return (await import('./infra.js')).awsStatusCommand(ctx);
  }
  const local = openLocal(loaded);
  const running = await local.postgres.isRunning();
  const secret = await local.postgres.secret();
  const initialised = local.postgres.isInitialised();
  const fleet =
    Array.isArray(loaded.config.database.tenants) ||
    'file' in loaded.config.database.tenants ||
    running
      ? await local.fleet()
      : [];
  const probes = new Map<string, ProbeResult>();
  if (running) await local.backend.probe(fleet, (p) => probes.set(p.database, p));
  const expected = loaded.config.database.expectedTables ?? null;
  const databases = fleet.map((name) => {
    const p = probes.get(name);
    return running && p
      ? {
          name,
          exists: p.exists,
          tables: p.tables ?? null,
          expectedTables: expected,
          pending: p.pendingKnown ? p.pending.length : null,
        }
      : { name, exists: null, tables: null, expectedTables: expected, pending: null };
  });
  const server = {
    state: running ? 'up' : initialised ? 'down' : 'not initialised',
    version: 16,
    host: secret?.host ?? '127.0.0.1',
    port: secret?.port ?? null,
    dataDir: local.paths.pgdata,
  };
  if (ctx.out.json) {
    ctx.out.data({ provider: 'local', postgres: server, databases });
    return ExitCode.ok;
  }
  const c = ctx.out.color;
  ctx.out.result(
    `PostgreSQL 16: ${running ? c.green('up') : c.yellow(server.state)}${server.port ? ` on ${server.host}:${server.port}` : ''}  (data: ${server.dataDir})`,
  );
  if (!running)
    ctx.out.result(
      c.dim('  databases are read when the server is up; `berth migrate --all` starts it'),
    );
  ctx.out.result(
    '\n' +
      table(
        ['DATABASE', 'EXISTS', 'TABLES', 'PENDING'],
        databases.map((d) => [
          d.name,
          d.exists === null ? '?' : d.exists ? 'yes' : c.yellow('no'),
          d.tables === null ? '?' : `${d.tables}/${d.expectedTables ?? '-'}`,
          d.pending === null ? '?' : d.pending === 0 ? '0' : c.yellow(String(d.pending)),
        ]),
      ),
  );
  return ExitCode.ok;
}
