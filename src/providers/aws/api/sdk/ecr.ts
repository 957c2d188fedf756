import {
  CreateRepositoryCommand,
  DeleteRepositoryCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  GetAuthorizationTokenCommand,
  GetLifecyclePolicyCommand,
  ListTagsForResourceCommand,
  PutImageScanningConfigurationCommand,
  PutLifecyclePolicyCommand,
  TagResourceCommand,
  type Repository,
} from '@aws-sdk/client-ecr';
import { redactor } from '../../../../core/redact.js';
import type { EcrApi, EcrRepository } from '../ecr-api.js';
import { awsCall, awsCallStrict } from '../errors.js';
import type { AwsSettings } from '../types.js';
import { sdkClientConfig, tagList, tagsFromList } from './common.js';

const op = (action: string, resource?: string) => ({
  service: 'ecr',
  action,
  ...(resource ? { resource } : {}),
});

function repository(r: Repository | undefined, what: string): EcrRepository {
  if (!r?.repositoryName || !r.repositoryArn || !r.repositoryUri)
    throw new Error(`ECR returned an incomplete repository for ${what}`);
  return {
    name: r.repositoryName,
    arn: r.repositoryArn,
    uri: r.repositoryUri,
    registryId: r.registryId ?? '',
    scanOnPush: r.imageScanningConfiguration?.scanOnPush ?? false,
    encryptionType: r.encryptionConfiguration?.encryptionType ?? 'AES256',
    ...(r.encryptionConfiguration?.kmsKey ? { kmsKey: r.encryptionConfiguration.kmsKey } : {}),
  };
}

export function createSdkEcrApi(
  settings: AwsSettings,
  client = new ECRClient(sdkClientConfig(settings)),
): EcrApi {
  return {
    async describeRepository(name) {
      const out = await awsCall(
        op('DescribeRepositories', name),
        () => client.send(new DescribeRepositoriesCommand({ repositoryNames: [name] })),
        ['RepositoryNotFoundException'],
      );
      const found = out?.repositories?.[0];
      return found ? repository(found, name) : undefined;
    },
    async createRepository(input) {
      const out = await awsCallStrict(op('CreateRepository', input.name), () =>
        client.send(
          new CreateRepositoryCommand({
            repositoryName: input.name,
            imageScanningConfiguration: { scanOnPush: input.scanOnPush },
            encryptionConfiguration: {
              encryptionType: input.encryptionType,
              ...(input.kmsKey ? { kmsKey: input.kmsKey } : {}),
            },
            tags: tagList(input.tags, 'Key', 'Value'),
          }),
        ),
      );
      return repository(out.repository, input.name);
    },
    async putImageScanningConfiguration(name, scanOnPush) {
      await awsCallStrict(op('PutImageScanningConfiguration', name), () =>
        client.send(
          new PutImageScanningConfigurationCommand({
            repositoryName: name,
            imageScanningConfiguration: { scanOnPush },
          }),
        ),
      );
    },
    async getLifecyclePolicy(name) {
      const out = await awsCall(
        op('GetLifecyclePolicy', name),
        () => client.send(new GetLifecyclePolicyCommand({ repositoryName: name })),
        ['LifecyclePolicyNotFoundException'],
      );
      return out?.lifecyclePolicyText;
    },
    async putLifecyclePolicy(name, policyText) {
      await awsCallStrict(op('PutLifecyclePolicy', name), () =>
        client.send(
          new PutLifecyclePolicyCommand({ repositoryName: name, lifecyclePolicyText: policyText }),
        ),
      );
    },
    async listTags(arn) {
      const out = await awsCallStrict(op('ListTagsForResource', arn), () =>
        client.send(new ListTagsForResourceCommand({ resourceArn: arn })),
      );
      return tagsFromList(
        out.tags,
        (t) => t.Key,
        (t) => t.Value,
      );
    },
    async tagResource(arn, tags) {
      await awsCallStrict(op('TagResource', arn), () =>
        client.send(
          new TagResourceCommand({ resourceArn: arn, tags: tagList(tags, 'Key', 'Value') }),
        ),
      );
    },
    async describeImageTag(name, tag) {
      const out = await awsCall(
        op('DescribeImages', `${name}:${tag}`),
        () =>
          client.send(
            new DescribeImagesCommand({ repositoryName: name, imageIds: [{ imageTag: tag }] }),
          ),
        ['ImageNotFoundException', 'RepositoryNotFoundException'],
      );
      const detail = out?.imageDetails?.[0];
      if (!detail?.imageDigest) return undefined;
      return {
        digest: detail.imageDigest,
        tags: detail.imageTags ?? [],
        ...(detail.imagePushedAt ? { pushedAt: detail.imagePushedAt } : {}),
      };
    },
    async countImages(name) {
      let count = 0;
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const out = await awsCallStrict(op('DescribeImages', name), () =>
          client.send(
            new DescribeImagesCommand({
              repositoryName: name,
              maxResults: 1000,
              ...(token ? { nextToken: token } : {}),
            }),
          ),
        );
        count += out.imageDetails?.length ?? 0;
        nextToken = out.nextToken;
      } while (nextToken);
      return count;
    },
    async deleteRepository(name, force) {
      await awsCall(
        op('DeleteRepository', name),
        () => client.send(new DeleteRepositoryCommand({ repositoryName: name, force })),
        ['RepositoryNotFoundException'],
      );
    },
    async getAuthorizationToken(registryId) {
      const out = await awsCallStrict(op('GetAuthorizationToken', registryId), () =>
        client.send(
          new GetAuthorizationTokenCommand(registryId ? { registryIds: [registryId] } : {}),
        ),
      );
      const data = out.authorizationData?.[0];
      if (!data?.authorizationToken || !data.proxyEndpoint)
        throw new Error('ECR returned no authorization data');
      redactor.add(data.authorizationToken);
      return {
        token: data.authorizationToken,
        proxyEndpoint: data.proxyEndpoint,
        ...(data.expiresAt ? { expiresAt: data.expiresAt } : {}),
      };
    },
  };
}
