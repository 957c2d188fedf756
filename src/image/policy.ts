/**
 * Policy checks on the production image, before anything is pushed:
 *  - it runs as a non-root user (Config.User set and not root/0);
 *  - it has a HEALTHCHECK;
 *  - none of `image.forbiddenPaths` exists in it (test runners, compilers, secrets…);
 *  - it is at least `image.minReduction` smaller than the development image.
 * The pure part (`configChecks`, `reductionCheck`) is separate from the part that asks the
 * engine (`forbiddenPathChecks`), so the rules are unit-tested without Docker.
 */
import { randomBytes } from 'node:crypto';
import { BerthError } from '../core/errors.js';
import { engineEnv, lastLines, type Exec } from '../core/exec.js';
import { formatSize, type ImageInfo } from './inspect.js';

export type PolicyCheckName = 'non-root-user' | 'healthcheck' | 'forbidden-path' | 'size-reduction';

export interface PolicyCheck {
  name: PolicyCheckName;
  ok: boolean;
  detail: string;
  /** For forbidden-path checks. */
  path?: string;
}

export interface PolicyReport {
  ok: boolean;
  checks: PolicyCheck[];
}

const ROOT_USER = /^(root|0)(:.*)?$/;

export function configChecks(info: ImageInfo): PolicyCheck[] {
  const user = info.user.trim();
  const test = info.healthcheck;
  const hasHealthcheck = test.length > 0 && test[0] !== 'NONE';
  return [
    {
      name: 'non-root-user',
      ok: user !== '' && !ROOT_USER.test(user),
      detail:
        user === ''
          ? 'no USER: the container would run as root'
          : ROOT_USER.test(user)
            ? `USER ${user} is root`
            : `runs as ${user}`,
    },
    {
      name: 'healthcheck',
      ok: hasHealthcheck,
      detail: hasHealthcheck
        ? `HEALTHCHECK ${test.slice(1).join(' ')}`
        : 'no HEALTHCHECK instruction',
    },
  ];
}

export function reductionCheck(
  production: number,
  development: number | undefined,
  minReduction: number,
): PolicyCheck & { reduction?: number } {
  if (development === undefined || development <= 0) {
    return {
      name: 'size-reduction',
      ok: true,
      detail: 'not checked: no development image of this version to compare with',
    };
  }
  const reduction = 1 - production / development;
  const pct = (n: number) => `${Math.round(n * 100)}%`;
  return {
    name: 'size-reduction',
    ok: reduction >= minReduction,
    reduction,
    detail: `${formatSize(production)} vs ${formatSize(development)} for development: ${pct(reduction)} smaller (minimum ${pct(minReduction)})`,
  };
}

/**
 * Each forbidden path, checked in a created (never started) container: `docker cp` of a path
 * that does not exist fails with "Could not find the file". Works for images without a shell.
 */
export async function forbiddenPathChecks(
  exec: Exec,
  cli: string,
  ref: string,
  paths: readonly string[],
): Promise<PolicyCheck[]> {
  if (paths.length === 0) return [];
  const env = engineEnv();
  const name = `berth-policy-${randomBytes(4).toString('hex')}`;
  const created = await exec(cli, ['create', '--network', 'none', '--name', name, ref], { env });
  if (created.code !== 0) {
    throw new BerthError(
      'IMAGE_POLICY_FAILED',
      `could not create a container from ${ref} to check image.forbiddenPaths: ${lastLines(created.stderr, 3).join(' ')}`,
    );
  }
  try {
    const checks: PolicyCheck[] = [];
    for (const p of paths) {
      const copy = await exec(cli, ['cp', `${name}:${p}`, '-'], { env, discardStdout: true });
      if (copy.code === 0) {
        checks.push({ name: 'forbidden-path', path: p, ok: false, detail: `${p} is in the image` });
      } else if (
        /could not find|no such file|no such container:path|not found/i.test(copy.stderr)
      ) {
        checks.push({ name: 'forbidden-path', path: p, ok: true, detail: `${p} absent` });
      } else {
        throw new BerthError(
          'IMAGE_POLICY_FAILED',
          `could not check ${p} in ${ref}: ${lastLines(copy.stderr, 3).join(' ')}`,
        );
      }
    }
    return checks;
  } finally {
    await exec(cli, ['rm', '-f', name], { env });
  }
}

export function policyReport(checks: PolicyCheck[]): PolicyReport {
  return { ok: checks.every((c) => c.ok), checks };
}
