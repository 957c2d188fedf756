/**
 * Is a container engine reachable? Asked once per command: the docker CLI (or the configured
 * one) must exist and its daemon must answer `info` (honouring DOCKER_HOST).
 */
import { BerthError } from '../core/errors.js';
import { exec as defaultExec, type Exec } from '../core/exec.js';

export interface EngineStatus {
  available: boolean;
  version?: string;
  reason?: string;
}

export const ENGINE_HINT =
  'start a Docker engine (BuildKit) or point DOCKER_HOST at one; local.containerCli names the CLI. ' +
  'On the lab machines, as root: eval "$(bash ../shared/container-lab.sh start)" ' +
  '(no bridge network there: berth always builds and runs with --network host)';

export async function detectEngine(
  cli = 'docker',
  timeoutMs = 5_000,
  exec: Exec = defaultExec,
): Promise<EngineStatus> {
  const result = await exec(cli, ['info', '--format', '{{.ServerVersion}}'], { timeoutMs });
  if (result.error) {
    return {
      available: false,
      reason:
        result.error.code !== 'ENOENT'
          ? result.error.message
          : cli.includes('/')
            ? `${cli} does not exist`
            : `no ${cli} CLI on PATH`,
    };
  }
  const version = result.stdout.trim();
  if (result.code === 0 && version) return { available: true, version };
  if (result.code === null) {
    return { available: false, reason: `${cli} info did not answer within ${timeoutMs / 1000}s` };
  }
  // e.g. "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"
  const first = result.stderr
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '' && !/^WARNING/i.test(l));
  return {
    available: false,
    reason: first ? `no container engine answers: ${first}` : 'no container engine answers',
  };
}

/** The engine's version, or CONTAINER_ENGINE_UNAVAILABLE (exit 7) saying why and what to do. */
export async function requireEngine(cli: string, exec: Exec = defaultExec): Promise<string> {
  const engine = await detectEngine(cli, 5_000, exec);
  if (!engine.available || !engine.version) {
    throw new BerthError(
      'CONTAINER_ENGINE_UNAVAILABLE',
      `no container engine: ${engine.reason ?? 'unknown reason'}`,
      { hint: ENGINE_HINT, source: 'environment', details: { cli } },
    );
  }
  return engine.version;
}
