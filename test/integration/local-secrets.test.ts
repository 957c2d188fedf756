/**
 * The local server's password never goes to another process, and berth's state is private.
 * berth connects to its server only through the Unix socket in `.berth/postgres/`, so a
 * process that took the server's TCP port while the server was stopped hears nothing from
 * `berth status` or `berth migrate`.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import os from 'node:os';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createProject, type TestProject } from '../support/project.js';

interface Fake {
  connections: number;
  received: () => Buffer;
  close: () => Promise<void>;
}

/**
 * Listens on the port like a PostgreSQL server that asks for a cleartext password: any
 * client that authenticates to it sends the password as it is.
 */
async function fakeServer(port: number): Promise<Fake> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (data) => {
      chunks.push(data);
      // SSLRequest: no. StartupMessage: AuthenticationCleartextPassword.
      if (data.length === 8 && data.readInt32BE(4) === 80877103) socket.write('N');
      else if (data[0] !== 0x70) socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return {
    get connections() {
      return connections;
    },
    received: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function walk(dir: string): Promise<string[]> {
  const found: string[] = [dir];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(full)));
    else found.push(full);
  }
  return found;
}

describe('local secrets', () => {
  let project: TestProject | undefined;
  afterEach(async () => {
    await project?.cleanup();
    project = undefined;
  });

  it('a process listening on the port while the server is stopped never receives the password', async () => {
    project = await createProject();
    expect((await project.berth(['local', 'start'])).code).toBe(0);
    const secret = JSON.parse(
      await readFile(path.join(project.dir, '.berth/secret.json'), 'utf8'),
    ) as { password: string; port: number };
    expect((await project.berth(['local', 'stop'])).code).toBe(0);

    const fake = await fakeServer(secret.port);
    try {
      const status = await project.berth(['status', '--json']);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('"state":"down"');
      const migrate = await project.berth(['migrate', '--all', '--runtime', 'process']);
      // The server cannot start while another process holds its port.
      expect(migrate.code).toBe(7);
      expect(migrate.stderr).toContain(String(secret.port));
      expect(fake.received().includes(secret.password)).toBe(false);
      expect(fake.connections).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it('keeps every state file 0600 in 0700 directories, and berth connects through the socket there', async () => {
    project = await createProject();
    const run = await project.berth(['migrate', '--all', '--runtime', 'process']);
    expect(run.code, run.stderr).toBe(0);
    const root = path.join(project.dir, '.berth');
    const asRoot = process.getuid?.() === 0;
    let files = 0;
    let socket = false;
    for (const file of await walk(root)) {
      const info = await lstat(file);
      const mode = info.mode & 0o777;
      if (info.isSocket()) {
        socket = path.dirname(file) === path.join(root, 'postgres');
        continue;
      }
      if (info.isDirectory()) {
        // As root the server runs as `postgres`, which must traverse .berth (execute only).
        const allowed = file === root && asRoot ? 0o701 : 0o700;
        expect({ file, mode: mode & ~allowed }).toEqual({ file, mode: 0 });
      } else {
        files++;
        expect({ file, mode: mode & 0o077 }).toEqual({ file, mode: 0 });
      }
    }
    expect(files).toBeGreaterThan(10);
    expect(socket).toBe(true);
  });

  it("berth logs in over its socket as the OS user (peer); the tasks' TCP logins still need the password", async () => {
    project = await createProject();
    expect((await project.berth(['local', 'start'])).code).toBe(0);
    // Restarted: the block in pg_hba.conf is replaced, not added again.
    expect((await project.berth(['local', 'stop'])).code).toBe(0);
    expect((await project.berth(['local', 'start'])).code).toBe(0);
    const secret = JSON.parse(
      await readFile(path.join(project.dir, '.berth/secret.json'), 'utf8'),
    ) as { username: string; password: string; port: number; host: string };
    const login = async (config: pg.ClientConfig): Promise<string> => {
      const client = new pg.Client({ user: secret.username, database: 'postgres', ...config });
      await client.connect();
      try {
        return (await client.query<{ who: string }>('SELECT system_user AS who')).rows[0]!.who;
      } finally {
        await client.end();
      }
    };
    const socketDir = path.join(project.dir, '.berth/postgres');
    // No password at all over the socket: the server asks the kernel who is at the other end.
    expect(await login({ host: socketDir, port: secret.port })).toBe(
      `peer:${os.userInfo().username}`,
    );
    // Over TCP, as the tasks connect: a wrong password is refused, the right one is SCRAM.
    await expect(
      login({ host: '127.0.0.1', port: secret.port, password: 'not-the-password' }),
    ).rejects.toThrow(/password authentication failed/);
    expect(await login({ host: '127.0.0.1', port: secret.port, password: secret.password })).toBe(
      `scram-sha-256:${secret.username}`,
    );
    const hba = await readFile(path.join(project.dir, '.berth/postgres/data/pg_hba.conf'), 'utf8');
    expect(hba.match(/^local all "berth" peer map=berth$/gm)).toHaveLength(1);
    // initdb's own lines stay behind berth's block.
    expect(hba).toMatch(/^host\s+all\s+all\s+127\.0\.0\.1\/32\s+scram-sha-256/m);
  });
});
