import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsCall } from '../errors.js';
import type { SecretsApi } from '../secrets-api.js';
import type { AwsSettings } from '../types.js';
import { sdkClientConfig } from './common.js';

export function createSdkSecretsApi(
  settings: AwsSettings,
  client = new SecretsManagerClient(sdkClientConfig(settings)),
): SecretsApi {
  return {
    async describeSecret(nameOrArn) {
      // DescribeSecret returns metadata only: berth never calls GetSecretValue.
      const out = await awsCall(
        { service: 'secretsmanager', action: 'DescribeSecret', resource: nameOrArn },
        () => client.send(new DescribeSecretCommand({ SecretId: nameOrArn })),
        ['ResourceNotFoundException'],
      );
      if (!out?.ARN) return undefined;
      return {
        arn: out.ARN,
        name: out.Name ?? nameOrArn,
        ...(out.KmsKeyId ? { kmsKeyId: out.KmsKeyId } : {}),
        ...(out.DeletedDate ? { deletedDate: out.DeletedDate } : {}),
      };
    },
  };
}
