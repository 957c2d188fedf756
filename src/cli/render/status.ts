/** `berth status`: the local database server and its databases, or the stack's steps. */
import { ExitCode } from '../../core/exit-codes.js';
import { assertNever } from '../../core/errors.js';
import type { ProviderStatus } from '../../providers/provider.js';
import { table, type Output } from '../output.js';
import { renderStackStatus } from './stack.js';

/** Prints the status; the exit code is 9 when the stack has drifted. */
export function printStatus(out: Output, status: ProviderStatus): number {
  switch (status.kind) {
    case 'database-server': {
      if (out.json) {
        const { kind: _kind, ...json } = status;
        out.data(json);
        return ExitCode.ok;
      }
      renderServerStatus(out, status);
      return ExitCode.ok;
    }
    case 'stack': {
      const { kind: _kind, ...json } = status;
      if (out.json) out.data(json);
      else renderStackStatus(out, status);
      return status.drifted ? ExitCode.changesPending : ExitCode.ok;
    }
    default:
      return assertNever(status, 'status');
  }
}

function renderServerStatus(
  out: Output,
  status: Extract<ProviderStatus, { kind: 'database-server' }>,
): void {
  const c = out.color;
  const server = status.postgres;
  const running = server.state === 'up';
  out.result(
    `PostgreSQL ${server.version}: ${running ? c.green('up') : c.yellow(server.state)}${server.port ? ` on ${server.host}:${server.port}` : ''}  (data: ${server.dataDir})`,
  );
  if (!running)
    out.result(
      c.dim('  databases are read when the server is up; `berth migrate --all` starts it'),
    );
  if (status.pendingUnknown) out.result(c.yellow(`  pending unknown: ${status.pendingUnknown}`));
  out.result(
    '\n' +
      table(
        ['DATABASE', 'EXISTS', 'TABLES', 'PENDING'],
        status.databases.map((d) => [
          d.name,
          d.exists === null ? '?' : d.exists ? 'yes' : c.yellow('no'),
          d.tables === null ? '?' : `${d.tables}/${d.expectedTables ?? '-'}`,
          d.pending === null ? '?' : d.pending === 0 ? '0' : c.yellow(String(d.pending)),
        ]),
      ),
  );
}
