// Shared helpers for the benchmarks: temp projects, timing, medians, peak RSS of a child.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { stringify } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const EXAMPLE = path.join(ROOT, 'examples/startupwebapp');
export const BERTH = path.join(ROOT, 'bin/berth.js');

/**
 * The commit the figures were measured on, with `dirty: true` when the working tree had
 * changes to tracked files (the figures then belong to no commit); undefined outside git.
 */
export function gitRevision() {
  try {
    const git = (...args) => execFileSync('git', args, { cwd: ROOT }).toString().trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return dirty ? { commit, dirty } : { commit };
  } catch {
    return {};
  }
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export async function createProject(tenants, extra = {}, { inFile = tenants.length > 50 } = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-'));
  const configFile = path.join(dir, 'berth.yaml');
  const config = {
    version: 1,
    app: 'startupwebapp',
    registry: { name: 'startupwebapp-backend' },
    cluster: { name: 'startupwebapp-cluster' },
    logs: { group: '/ecs/startupwebapp-migrations' },
    roles: { execution: 'ecsTaskExecutionRole-startupwebapp', task: 'ecsTaskRole-startupwebapp' },
    task: {
      family: 'startupwebapp-migration-task',
      command: ['node', 'dist/migrate.js'],
      environment: { NODE_ENV: 'production' },
    },
    database: {
      secret: { name: 'rds/startupwebapp/multi-tenant/master' },
      tenants,
      expectedTables: 57,
    },
    migrations: { directory: path.join(EXAMPLE, 'migrations') },
    local: { workdir: EXAMPLE, dataDir: '.berth', maxConnections: 300 },
    ...extra,
  };
  const tenantsFile = path.join(dir, 'tenants.txt');
  if (Array.isArray(tenants) && inFile) {
    await writeFile(tenantsFile, tenants.join('\n') + '\n');
    config.database.tenants = { file: 'tenants.txt' };
  }
  await writeFile(configFile, stringify(config));
  return {
    dir,
    configFile,
    /** Another fleet for the next runs (a project whose tenants are in a file). */
    setTenants: (list) => writeFile(tenantsFile, list.join('\n') + '\n'),
    run: (args, opts = {}) => runBerth(['--config', configFile, ...args], { cwd: dir, ...opts }),
    async secret() {
      return JSON.parse(await readFile(path.join(dir, '.berth/secret.json'), 'utf8'));
    },
    async client(database = 'postgres') {
      const s = await this.secret();
      const c = new pg.Client({
        host: s.host,
        port: s.port,
        user: s.username,
        password: s.password,
        database,
      });
      await c.connect();
      return c;
    },
    async cleanup() {
      await runBerth(['--config', configFile, 'local', 'stop'], { cwd: dir });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs berth (`berth`: another build's bin/berth.js, for an A/B); resolves with exit code, wall time and the child's peak RSS (from /proc). */
export function runBerth(args, { cwd = ROOT, sampleRss = false, berth = BERTH } = {}) {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    // berth runs as users run it: the launcher through its shebang (which sets berth's Node
    // flags). BENCH_NODE_ARGS runs it with `node <args>` instead (e.g. --cpu-prof, or none
    // at all to see V8's default sizing) when investigating a figure.
    const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean);
    const [program, argv] = nodeArgs
      ? [process.execPath, [...nodeArgs, berth, ...args]]
      : [berth, args];
    const child = spawn(program, argv, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    let peakRssKb = 0;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = sampleRss
      ? setInterval(async () => {
          try {
            const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
            const hwm = /VmHWM:\s+(\d+)/.exec(status);
            if (hwm) peakRssKb = Math.max(peakRssKb, Number(hwm[1]));
          } catch {}
        }, 20)
      : undefined;
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      resolve({
        code,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
        stdout,
        stderr,
        peakRssMb: peakRssKb / 1024,
      });
    });
  });
}

export async function dropDatabases(project, names) {
  const c = await project.client();
  try {
    for (const n of names)
      await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(n)} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}
