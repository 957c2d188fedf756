import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { awsCallStrict } from '../errors.js';
import type { ParameterDescription, ParameterType, SsmApi } from '../ssm-api.js';
import type { AwsSettings } from '../types.js';
import { sdkClientConfig } from './common.js';

/** DescribeParameters takes at most 50 values in one filter, and answers 50 per page. */
const PER_CALL = 50;

const TYPES: readonly ParameterType[] = ['String', 'StringList', 'SecureString'];

export function createSdkSsmApi(
  settings: AwsSettings,
  client = new SSMClient(sdkClientConfig(settings)),
): SsmApi {
  return {
    async describeParameters(names) {
      const unique = [...new Set(names)];
      const found: ParameterDescription[] = [];
      for (let i = 0; i < unique.length; i += PER_CALL) {
        const chunk = unique.slice(i, i + PER_CALL);
        let nextToken: string | undefined;
        do {
          // Metadata only: berth never calls GetParameter(s), which return the value.
          const out = await awsCallStrict(
            { service: 'ssm', action: 'DescribeParameters', resource: chunk.join(', ') },
            () =>
              client.send(
                new DescribeParametersCommand({
                  ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: chunk }],
                  MaxResults: PER_CALL,
                  ...(nextToken ? { NextToken: nextToken } : {}),
                }),
              ),
          );
          for (const p of out.Parameters ?? []) {
            if (!p.Name) continue;
            found.push({
              name: p.Name,
              ...(p.ARN ? { arn: p.ARN } : {}),
              type: TYPES.find((t) => t === p.Type) ?? 'String',
              ...(p.KeyId ? { kmsKeyId: p.KeyId } : {}),
            });
          }
          nextToken = out.NextToken;
        } while (nextToken);
      }
      return found;
    },
  };
}
