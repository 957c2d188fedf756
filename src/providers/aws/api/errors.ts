/**
 * SDK errors → BerthErrors, in one place. The SDK adapters wrap every call with `awsCall`,
 * so the domain code and the CLI only ever see BerthError codes:
 *  - no usable credentials        → AWS_CREDENTIALS_MISSING (exit 7), with how to provide them
 *  - AccessDenied & co            → AWS_ACCESS_DENIED (exit 8), naming the action and resource
 *  - anything else                → AWS_ERROR (exit 8), with the AWS error code and request ID
 * Not-found errors are not errors for berth: adapters turn them into `undefined` reads.
 */
import { BerthError, isBerthError } from '../../../core/errors.js';
import { ExitCode } from '../../../core/exit-codes.js';

export interface AwsOperation {
  /** IAM action prefix: ecr, ecs, iam, logs, ec2, secretsmanager, ssm, sts. */
  service: string;
  /** The API action, e.g. CreateRepository. */
  action: string;
  /** What the call was about: a name or an ARN. */
  resource?: string;
}

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

export const CREDENTIALS_HINT =
  'provide credentials the AWS way: `--profile NAME` or AWS_PROFILE (run `aws sso login --profile NAME` for SSO), ' +
  'or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY(/AWS_SESSION_TOKEN) in the environment; in GitHub Actions use OIDC ' +
  '(aws-actions/configure-aws-credentials with role-to-assume, see `berth iam github-oidc`)';

const CREDENTIALS_MISSING = new Set([
  'CredentialsProviderError',
  'CredentialsError',
  'TokenProviderError',
]);
const CREDENTIALS_REJECTED = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'AuthFailure',
  'InvalidSignatureException',
  'RequestExpired',
]);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedAccess',
  'UnauthorizedException',
  'NotAuthorized',
]);

export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as SdkErrorShape;
  return e.name && e.name !== 'Error' ? e.name : (e.Code ?? e.code ?? e.name);
}

function fullAction(op: AwsOperation): string {
  return `${op.service}:${op.action}`;
}

/** Maps any error thrown by an SDK call to a BerthError (BerthErrors pass through). */
export function toBerthError(error: unknown, op: AwsOperation): BerthError {
  if (isBerthError(error)) return error;
  const e = (
    typeof error === 'object' && error !== null ? error : { message: String(error) }
  ) as SdkErrorShape;
  const code = errorCodeOf(error) ?? 'Error';
  const message = e.message ?? String(error);
  const on = op.resource ? ` on ${op.resource}` : '';
  const details = {
    action: fullAction(op),
    ...(op.resource ? { resource: op.resource } : {}),
    awsCode: code,
    ...(e.$metadata?.requestId ? { requestId: e.$metadata.requestId } : {}),
  };
  if (
    CREDENTIALS_MISSING.has(code) ||
    /could not load credentials|unable to load credentials/i.test(message)
  ) {
    return new BerthError(
      'AWS_CREDENTIALS_MISSING',
      `no AWS credentials found (needed for ${fullAction(op)})`,
      {
        cause: error,
        hint: CREDENTIALS_HINT,
        source: 'environment',
        details,
      },
    );
  }
  if (
    CREDENTIALS_REJECTED.has(code) ||
    /token.*(expired|invalid)|sso session.*expired/i.test(message)
  ) {
    return new BerthError(
      'AWS_CREDENTIALS_MISSING',
      `AWS rejected the credentials for ${fullAction(op)}: ${code}: ${message}`,
      {
        cause: error,
        hint: `refresh them (e.g. \`aws sso login\`) or ${CREDENTIALS_HINT.replace(/^provide credentials/, 'provide others')}`,
        source: 'environment',
        details,
      },
    );
  }
  if (ACCESS_DENIED.has(code) || e.$metadata?.httpStatusCode === 403) {
    return new BerthError(
      'AWS_ACCESS_DENIED',
      `access denied: ${fullAction(op)}${on} (${message})`,
      {
        cause: error,
        hint: `allow ${fullAction(op)}${op.resource ? ` on ${op.resource}` : ''} for the calling principal (see \`berth iam ci-policy\` for what CI needs)`,
        details,
      },
    );
  }
  // e.g. `berth tasks list` or `berth logs` after `berth down`: say what is missing and why.
  if (code === 'ClusterNotFoundException') {
    return new BerthError(
      'AWS_REFERENCE_INVALID',
      `the ECS cluster does not exist (${fullAction(op)}${on}: ${message})`,
      {
        cause: error,
        hint: 'create the stack with `berth up` (cluster.name in berth.yaml), or check --region / aws.region and the account',
        details,
      },
    );
  }
  const network = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|socket hang up/i.test(
    `${code} ${message}`,
  );
  return new BerthError('AWS_ERROR', `${fullAction(op)}${on} failed: ${code}: ${message}`, {
    cause: error,
    hint: network
      ? 'AWS could not be reached; check the network, --region and --endpoint-url / AWS_ENDPOINT_URL / aws.endpoint'
      : undefined,
    exitCode: ExitCode.provider,
    details,
  });
}

/** Runs one SDK call; `notFound` lists the error codes that mean "there is no such thing". */
export async function awsCall<T>(
  op: AwsOperation,
  call: () => Promise<T>,
  notFound: readonly string[] = [],
): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    const code = errorCodeOf(error);
    if (code && notFound.includes(code)) return undefined;
    throw toBerthError(error, op);
  }
}

/** Like awsCall, for calls where not-found is an error too. */
export async function awsCallStrict<T>(op: AwsOperation, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toBerthError(error, op);
  }
}
