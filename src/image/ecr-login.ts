/**
 * Logging the container CLI in to ECR: GetAuthorizationToken returns base64("AWS:<password>")
 * and the registry endpoint; the password goes to `docker login --password-stdin` (never on
 * argv, never printed: it is registered with the redactor the moment it is decoded), into a
 * throwaway DOCKER_CONFIG directory so the credential does not outlive the push.
 *
 * The token call is injected (`GetEcrAuthorization`) so the flow is tested without AWS;
 * `authorizationFromEcr` adapts berth's EcrApi (src/providers/aws) to it.
 */
import { BerthError } from '../core/errors.js';
import { redactor } from '../core/redact.js';
import type { EcrApi } from '../providers/aws/api/ecr-api.js';
import { engineEnv, lastLines, type Exec } from '../core/exec.js';

export interface EcrAuthorization {
  username: string;
  password: string;
  /** Registry host, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com (no scheme). */
  endpoint: string;
  expiresAt?: string;
}

export type GetEcrAuthorization = (registryId?: string) => Promise<EcrAuthorization>;

/** base64("user:password") → parts; the password is registered with the redactor. */
export function decodeAuthorizationToken(token: string): { username: string; password: string } {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) {
    throw new BerthError('AWS_ERROR', 'ECR returned an authorization token berth cannot read');
  }
  const password = decoded.slice(colon + 1);
  redactor.add(password);
  redactor.add(token);
  return { username: decoded.slice(0, colon), password };
}

/** `https://123.dkr.ecr.us-east-1.amazonaws.com` → `123.dkr.ecr.us-east-1.amazonaws.com`. */
export function registryHost(endpoint: string): string {
  return endpoint.replace(/^https?:\/\//, '').replace(/\/+$/, '');
}

/** GetAuthorizationToken through berth's ECR interface (SDK adapter or the in-memory fake). */
export function authorizationFromEcr(
  ecr: Pick<EcrApi, 'getAuthorizationToken'>,
): GetEcrAuthorization {
  return async (registryId) => {
    const data = await ecr.getAuthorizationToken(registryId);
    const { username, password } = decodeAuthorizationToken(data.token);
    return {
      username,
      password,
      endpoint: registryHost(data.proxyEndpoint),
      ...(data.expiresAt ? { expiresAt: data.expiresAt.toISOString() } : {}),
    };
  };
}

/** `docker --config DIR login --username U --password-stdin HOST`, the password on stdin. */
export async function dockerLogin(
  exec: Exec,
  cli: string,
  auth: EcrAuthorization,
  configDir: string,
): Promise<void> {
  const result = await exec(
    cli,
    [
      '--config',
      configDir,
      'login',
      '--username',
      auth.username,
      '--password-stdin',
      auth.endpoint,
    ],
    { env: engineEnv(), input: auth.password },
  );
  if (result.code !== 0) {
    throw new BerthError(
      'IMAGE_PUSH_FAILED',
      `${cli} login ${auth.endpoint} failed: ${redactor.redact(lastLines(result.stderr || (result.error?.message ?? ''), 3).join(' '))}`,
      {
        hint: 'check that the engine can reach the registry and that the token is for this account and region',
      },
    );
  }
}
