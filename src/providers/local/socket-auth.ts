/**
 * How berth's own connections to the local server log in: by the operating-system user at
 * the other end of the private Unix socket (`peer`), not by password (SCRAM).
 *
 * Why: a fleet run opens one connection per tenant database, and a SCRAM login is three
 * round trips and the server's share of the proof on top of the connection itself. Peer
 * authentication is one `getsockopt` on the server. On this project's bench (1,000
 * connections, 32 at a time) it took 1.2 s against 1.5-1.7 s with SCRAM even when berth
 * caches the key derivation (scram-client.ts), and the server spent a fifth less CPU.
 *
 * Nothing is weakened: the socket lives in a directory only the server's user can enter
 * (mode 0700, postgres-server.ts), so the only processes that can reach it are that user's
 * and root's, which can read the password in `.berth/secret.json` anyway; the map below
 * lets exactly those two log in as berth's role. Tasks connect over TCP (127.0.0.1) with the
 * password, as they would on RDS, and keep SCRAM.
 *
 * The block is written in front of initdb's lines before every start, so a cluster created
 * by an older berth gets it on its next start and keeps SCRAM until then (node-postgres
 * answers whichever the server asks for). Where the user has no name (a container run with
 * a bare uid) or one PostgreSQL's files cannot quote, berth writes no block and stays on SCRAM.
 */
import { readFile, chown, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const BEGIN = '# berth: begin (written by berth on every start; edits inside are replaced)';
const END = '# berth: end';
const MAP = 'berth';

/**
 * A user or role name as a pg_hba/pg_ident token: double-quoted, or refused when quoting
 * cannot carry it (a quote, white space) or its first character means something (`/` starts
 * a regular expression, `+` a group, `@` a file).
 */
function token(name: string): string | undefined {
  return /^[^"\s\\#,/+@][^"\s\\#,]*$/.test(name) ? `"${name}"` : undefined;
}

/** The operating-system users that may log in as `role` over the socket: berth's and root. */
export function socketUsers(): string[] {
  let own: string;
  try {
    own = os.userInfo().username;
  } catch {
    // A uid without a passwd entry: the server could not name the peer either.
    return [];
  }
  return [...new Set([own, 'root'])];
}

/** `text` without berth's block (as berth wrote it), then with `block` in front when given. */
export function withBlock(text: string, block: string[] | undefined): string {
  const start = text.indexOf(BEGIN);
  const end = start === -1 ? -1 : text.indexOf(END, start);
  const rest =
    start === -1 || end === -1
      ? text
      : text.slice(0, start) + text.slice(end + END.length).replace(/^\r?\n/, '');
  return block ? [BEGIN, ...block, END, ''].join('\n') + rest : rest;
}

/** pg_hba.conf and pg_ident.conf lines for `role` and `users`; undefined when they cannot be written. */
export function socketAuthLines(
  role: string,
  users: string[],
): { hba: string[]; ident: string[] } | undefined {
  const roleToken = token(role);
  const userTokens = users.map(token);
  if (!roleToken || userTokens.length === 0 || userTokens.some((t) => t === undefined))
    return undefined;
  return {
    hba: [`local all ${roleToken} peer map=${MAP}`],
    ident: userTokens.map((user) => `${MAP} ${user} ${roleToken}`),
  };
}

/**
 * Writes (or removes) berth's block in the cluster's pg_hba.conf and pg_ident.conf, before
 * the server starts. Each file is replaced whole (a sibling, then a rename), keeping its
 * owner (the server's user) and mode, so a crash mid-write never leaves the server unable
 * to read its authentication rules.
 */
export async function writeSocketAuth(
  pgdata: string,
  role: string,
  owner: { uid: number; gid: number } | undefined,
  users: string[] = socketUsers(),
): Promise<boolean> {
  const lines = socketAuthLines(role, users);
  await rewrite(path.join(pgdata, 'pg_hba.conf'), lines?.hba, owner);
  await rewrite(path.join(pgdata, 'pg_ident.conf'), lines?.ident, owner);
  return lines !== undefined;
}

async function rewrite(
  file: string,
  block: string[] | undefined,
  owner: { uid: number; gid: number } | undefined,
): Promise<void> {
  const current = await readFile(file, 'utf8').catch(() => '');
  const next = withBlock(current, block);
  if (next === current) return;
  const temp = `${file}.berth.tmp`;
  await writeFile(temp, next, { mode: 0o600 });
  if (owner) await chown(temp, owner.uid, owner.gid);
  await rename(temp, file);
}
