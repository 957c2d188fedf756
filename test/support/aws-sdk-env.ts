/**
 * For tests that build real SDK clients (mocked with aws-sdk-client-mock): fake static
 * credentials, no shared config, no instance metadata, and an endpoint nobody listens on, so
 * that even an unmocked call can never reach AWS.
 */
import type { AwsSettings } from '../../src/providers/aws/api/types.js';

export const UNREACHABLE_ENDPOINT = 'http://127.0.0.1:9';

export const SDK_TEST_SETTINGS: AwsSettings = {
  region: 'us-east-1',
  endpoint: UNREACHABLE_ENDPOINT,
};

const VARS: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'AKIAFAKEFAKEFAKEFAKE',
  AWS_SECRET_ACCESS_KEY: 'fake-secret-key-for-tests',
  AWS_REGION: 'us-east-1',
  AWS_ENDPOINT_URL: UNREACHABLE_ENDPOINT,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent/berth-test-aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/berth-test-aws-credentials',
};

/** Sets the variables; returns a function restoring the previous values. */
export function useFakeAwsEnvironment(): () => void {
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(VARS)) {
    saved.set(k, process.env[k]);
    process.env[k] = v;
  }
  for (const k of [
    'AWS_PROFILE',
    'AWS_SESSION_TOKEN',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_ROLE_ARN',
  ]) {
    saved.set(k, process.env[k]);
    delete process.env[k];
  }
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
