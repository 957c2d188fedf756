/**
 * Container tests need a Docker engine (BuildKit) and the loopback registry on
 * 127.0.0.1:5000 — on the lab machines, `eval "$(bash ../shared/container-lab.sh start)"`
 * (`.ci/run` does it); on GitHub, the runner's Docker and a registry service. In CI
 * (CI=true) a missing engine FAILS these tests; elsewhere they are skipped with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { detectEngine } from '../../src/image/engine.js';

export const CLI = process.env.BERTH_TEST_CONTAINER_CLI ?? 'docker';
export const REGISTRY = '127.0.0.1:5000';
export const engine = await detectEngine(CLI);
export const inCi = Boolean(process.env.CI);

async function registryUp(): Promise<string | undefined> {
  try {
    const response = await fetch(`http://${REGISTRY}/v2/`, { signal: AbortSignal.timeout(3000) });
    return response.ok ? undefined : `registry ${REGISTRY} answered HTTP ${response.status}`;
  } catch (error) {
    return `no registry on ${REGISTRY} (${(error as Error).message})`;
  }
}
export const registryProblem = await registryUp();

/** Why container tests cannot run here, or undefined when they can. */
export const unavailable = !engine.available
  ? `no container engine: ${engine.reason ?? 'unknown'}`
  : registryProblem;

/** it.skipIf(skipContainers): skipped outside CI when unavailable; never skipped in CI. */
export const skipContainers = Boolean(unavailable) && !inCi;
if (skipContainers) {
  console.warn(
    `container tests skipped: ${unavailable}. Start the lab: eval "$(bash ../shared/container-lab.sh start)"`,
  );
}

/** First line of every container test: in CI an unavailable engine is a failure, with the reason. */
export function requireContainers(): void {
  if (unavailable) {
    throw new Error(
      `container tests need Docker and ${REGISTRY}: ${unavailable} (lab: eval "$(bash ../shared/container-lab.sh start)")`,
    );
  }
}

/** Base image for builds: the lab's stand-in (no Docker Hub here), else the Dockerfile default. */
export const BASE_IMAGE = process.env.BERTH_BASE_IMAGE ?? process.env.CONTAINER_LAB_NODE_IMAGE;
/** A small image with sh and node for runtime tests. */
export const NODE_IMAGE = process.env.CONTAINER_LAB_NODE_IMAGE ?? 'node:20-bookworm-slim';
/** A small image with sh and no node. */
export const DEBIAN_IMAGE = process.env.CONTAINER_LAB_DEBIAN_IMAGE ?? 'debian:bookworm-slim';

/** Environment for spawned berth processes that build images. */
export function buildEnv(): Record<string, string> {
  return BASE_IMAGE ? { BERTH_BASE_IMAGE: BASE_IMAGE } : {};
}

export function docker(args: string[]): string {
  return execFileSync(CLI, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function dockerStatus(args: string[]): {
  code: number | null;
  stdout: string;
  stderr: string;
} {
  const r = spawnSync(CLI, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

/**
 * A running container's HEALTHCHECK verdict: polls until it is `healthy` or `unhealthy`, or
 * the deadline passes (then the last status, e.g. `starting`).
 */
export async function healthOf(name: string, timeoutMs = 60_000): Promise<string> {
  let status = '';
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    status = docker(['inspect', '--format', '{{.State.Health.Status}}', name]);
    if (status === 'healthy' || status === 'unhealthy') break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return status;
}
