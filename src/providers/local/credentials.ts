/**
 * The local stand-in for the Secrets Manager secret: the master credentials, generated once,
 * kept in a mode-0600 JSON file with the same keys as an RDS secret (username, password,
 * host, port). The password is registered with the redactor the moment it is read.
 */
import { readFile, stat } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../../core/atomic-write.js';
import { BerthError } from '../../core/errors.js';
import { redactor } from '../../core/redact.js';

export interface DatabaseSecret {
  username: string;
  password: string;
  host: string;
  port: number;
}

export async function readSecret(file: string): Promise<DatabaseSecret | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const mode = (await stat(file)).mode & 0o777;
  if (mode & 0o077) {
    throw new BerthError(
      'POSTGRES_UNAVAILABLE',
      `${file} is readable by other users (mode ${mode.toString(8)})`,
      {
        hint: `run \`chmod 600 ${file}\``,
        source: 'environment',
      },
    );
  }
  const secret = JSON.parse(text) as DatabaseSecret;
  redactor.add(secret.password);
  return secret;
}

export async function createSecret(file: string, port: number): Promise<DatabaseSecret> {
  const secret: DatabaseSecret = {
    username: 'berth',
    // URL-safe so it survives connection strings and env files unquoted.
    password: randomBytes(24).toString('base64url'),
    host: '127.0.0.1',
    port,
  };
  redactor.add(secret.password);
  await writeFileAtomic(file, `${JSON.stringify(secret, null, 2)}\n`, 0o600);
  return secret;
}

/** The task environment the ECS task definition's `secrets` would inject, from the secret. */
export function secretEnvironment(
  secret: DatabaseSecret,
  keys: Record<'DATABASE_PASSWORD' | 'DATABASE_USER' | 'DATABASE_HOST' | 'DATABASE_PORT', string>,
): Record<string, string> {
  const record = secret as unknown as Record<string, unknown>;
  const env: Record<string, string> = {};
  for (const [variable, key] of Object.entries(keys)) {
    const value = record[key];
    if (typeof value === 'string' || typeof value === 'number') env[variable] = String(value);
  }
  return env;
}
