import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { awsCallStrict } from '../errors.js';
import type { StsApi } from '../sts-api.js';
import type { AwsSettings } from '../types.js';
import { sdkClientConfig } from './common.js';

export function createSdkStsApi(
  settings: AwsSettings,
  client = new STSClient(sdkClientConfig(settings)),
): StsApi {
  return {
    async getCallerIdentity() {
      const out = await awsCallStrict({ service: 'sts', action: 'GetCallerIdentity' }, () =>
        client.send(new GetCallerIdentityCommand({})),
      );
      return { account: out.Account ?? '', arn: out.Arn ?? '', userId: out.UserId ?? '' };
    },
  };
}
