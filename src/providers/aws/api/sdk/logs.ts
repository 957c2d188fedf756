import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  ListTagsForResourceCommand,
  PutRetentionPolicyCommand,
  TagResourceCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { awsCall, awsCallStrict } from '../errors.js';
import type { LogsApi } from '../logs-api.js';
import type { AwsSettings } from '../types.js';
import { sdkClientConfig } from './common.js';

const NOT_FOUND = ['ResourceNotFoundException'];
const op = (action: string, resource?: string) => ({
  service: 'logs',
  action,
  ...(resource ? { resource } : {}),
});

export function createSdkLogsApi(
  settings: AwsSettings,
  client = new CloudWatchLogsClient(sdkClientConfig(settings)),
): LogsApi {
  return {
    async filterLogEvents(input) {
      const out = await awsCall(
        op('FilterLogEvents', input.group),
        () =>
          client.send(
            new FilterLogEventsCommand({
              logGroupName: input.group,
              ...(input.streams ? { logStreamNames: input.streams } : {}),
              ...(input.streamPrefix ? { logStreamNamePrefix: input.streamPrefix } : {}),
              ...(input.startTime !== undefined ? { startTime: input.startTime } : {}),
              ...(input.nextToken ? { nextToken: input.nextToken } : {}),
              ...(input.limit ? { limit: input.limit } : {}),
            }),
          ),
        // A named stream that does not exist yet (the task has printed nothing so far).
        NOT_FOUND,
      );
      if (!out) return undefined;
      return {
        events: (out.events ?? []).map((e) => ({
          timestamp: e.timestamp ?? 0,
          message: e.message ?? '',
          stream: e.logStreamName ?? '',
          eventId: e.eventId ?? `${e.logStreamName ?? ''}/${e.timestamp ?? 0}/${e.message ?? ''}`,
        })),
        ...(out.nextToken ? { nextToken: out.nextToken } : {}),
      };
    },
    async getLogEvents(input) {
      const out = await awsCall(
        op('GetLogEvents', `${input.group}:${input.stream}`),
        () =>
          client.send(
            new GetLogEventsCommand({
              logGroupName: input.group,
              logStreamName: input.stream,
              startFromHead: input.startFromHead,
              ...(input.nextToken ? { nextToken: input.nextToken } : {}),
              ...(input.limit ? { limit: input.limit } : {}),
            }),
          ),
        // The stream appears with the task's first line; until then it does not exist.
        NOT_FOUND,
      );
      if (!out) return undefined;
      return {
        events: (out.events ?? []).map((e) => ({
          timestamp: e.timestamp ?? 0,
          message: e.message ?? '',
        })),
        ...(out.nextForwardToken ? { nextForwardToken: out.nextForwardToken } : {}),
      };
    },
    async describeLogGroup(name) {
      let nextToken: string | undefined;
      // The exact name sorts first among the names it prefixes, so this is one page in practice.
      do {
        const token = nextToken;
        const out = await awsCallStrict(op('DescribeLogGroups', name), () =>
          client.send(
            new DescribeLogGroupsCommand({
              logGroupNamePrefix: name,
              limit: 50,
              ...(token ? { nextToken: token } : {}),
            }),
          ),
        );
        const found = out.logGroups?.find((g) => g.logGroupName === name);
        if (found) {
          return {
            name,
            arn: found.logGroupArn ?? (found.arn ?? '').replace(/:\*$/, ''),
            ...(found.retentionInDays !== undefined
              ? { retentionDays: found.retentionInDays }
              : {}),
            storedBytes: found.storedBytes ?? 0,
          };
        }
        const groups = out.logGroups ?? [];
        const last = groups[groups.length - 1]?.logGroupName;
        // Sorted by name: once past `name`, it is not there.
        nextToken = last !== undefined && last < name ? out.nextToken : undefined;
      } while (nextToken);
      return undefined;
    },
    async createLogGroup(name, tags) {
      await awsCallStrict(op('CreateLogGroup', name), () =>
        client.send(new CreateLogGroupCommand({ logGroupName: name, tags })),
      );
    },
    async putRetentionPolicy(name, days) {
      await awsCallStrict(op('PutRetentionPolicy', name), () =>
        client.send(new PutRetentionPolicyCommand({ logGroupName: name, retentionInDays: days })),
      );
    },
    async listTags(arn) {
      const out = await awsCall(
        op('ListTagsForResource', arn),
        () => client.send(new ListTagsForResourceCommand({ resourceArn: arn })),
        NOT_FOUND,
      );
      return out?.tags ?? {};
    },
    async tagResource(arn, tags) {
      await awsCallStrict(op('TagResource', arn), () =>
        client.send(new TagResourceCommand({ resourceArn: arn, tags })),
      );
    },
    async deleteLogGroup(name) {
      await awsCall(
        op('DeleteLogGroup', name),
        () => client.send(new DeleteLogGroupCommand({ logGroupName: name })),
        NOT_FOUND,
      );
    },
  };
}
