/**
 * task.secrets on the local provider (no Secrets Manager): each variable from berth's own
 * environment, registered with the redactor; unset or empty ones are all named at once.
 */
import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../../src/core/errors.js';
import { exitCodeForError } from '../../../src/core/exit-codes.js';
import { redactor } from '../../../src/core/redact.js';
import { localTaskSecrets } from '../../../src/providers/local/task-secrets.js';
import { sampleConfig } from '../../../src/providers/aws/fake/sample-stack.js';

const config = sampleConfig((y) =>
  y.replace(
    '  environment:\n',
    '  secrets:\n    SIGNING_KEY: app/signing\n    STRIPE_API_KEY: { secret: app/pay, key: stripe }\n  environment:\n',
  ),
);

describe('localTaskSecrets', () => {
  it('takes each variable from the environment and masks its value from then on', () => {
    const values = localTaskSecrets(config, {
      SIGNING_KEY: 'local-signing-value-1',
      STRIPE_API_KEY: 'sk_test_local_2',
      UNRELATED: 'x',
    });
    expect(values).toEqual({
      SIGNING_KEY: 'local-signing-value-1',
      STRIPE_API_KEY: 'sk_test_local_2',
    });
    expect(redactor.redact('key=local-signing-value-1 and sk_test_local_2')).toBe(
      'key=*** and ***',
    );
  });

  it('names every variable that is unset or empty, as a config error (exit 3)', () => {
    let error: unknown;
    try {
      localTaskSecrets(config, { SIGNING_KEY: '' });
    } catch (e) {
      error = e;
    }
    expect(isBerthError(error) && error.code).toBe('CONFIG_INVALID');
    expect(isBerthError(error) && exitCodeForError(error.code)).toBe(3);
    expect((error as Error).message).toContain(
      'task.secrets: SIGNING_KEY, STRIPE_API_KEY are not set in berth',
    );
    expect(isBerthError(error) && error.details).toEqual({
      paths: ['task.secrets.SIGNING_KEY', 'task.secrets.STRIPE_API_KEY'],
    });
  });

  it('takes a Parameter Store entry from the environment like a secret, and says so when unset', () => {
    const withParameter = sampleConfig((y) =>
      y.replace(
        '  environment:\n',
        '  secrets:\n    API_TOKEN: { parameter: /app/api-token }\n    SIGNING_KEY: app/signing\n  environment:\n',
      ),
    );
    expect(
      localTaskSecrets(withParameter, {
        API_TOKEN: 'local-api-token-3',
        SIGNING_KEY: 'local-signing-value-4',
      }),
    ).toEqual({ API_TOKEN: 'local-api-token-3', SIGNING_KEY: 'local-signing-value-4' });
    expect(redactor.redact('token local-api-token-3')).toBe('token ***');
    let error: unknown;
    try {
      localTaskSecrets(withParameter, { SIGNING_KEY: 'local-signing-value-4' });
    } catch (e) {
      error = e;
    }
    expect(isBerthError(error) && error.details).toEqual({ paths: ['task.secrets.API_TOKEN'] });
    expect((error as Error).message).toContain(
      "API_TOKEN is not set in berth's environment; on the local provider a task gets each of task.secrets from there (on AWS, from Secrets Manager or Parameter Store)",
    );
  });

  it('asks for nothing when task.secrets is empty', () => {
    expect(localTaskSecrets(sampleConfig(), {})).toEqual({});
  });
});
