import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  type Role,
} from '@aws-sdk/client-iam';
import type { IamApi, IamRole } from '../iam-api.js';
import { awsCall, awsCallStrict } from '../errors.js';
import type { AwsSettings } from '../types.js';
import { sdkClientConfig, tagList, tagsFromList } from './common.js';

const NOT_FOUND = ['NoSuchEntityException', 'NoSuchEntity'];
const op = (action: string, resource?: string) => ({
  service: 'iam',
  action,
  ...(resource ? { resource } : {}),
});

/** IAM returns policy documents URL-encoded. */
export function decodePolicy(text: string | undefined): string {
  if (!text) return '';
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function role(r: Role | undefined, name: string): IamRole {
  if (!r?.RoleName || !r.Arn) throw new Error(`IAM returned an incomplete role for ${name}`);
  return {
    name: r.RoleName,
    arn: r.Arn,
    assumeRolePolicy: decodePolicy(r.AssumeRolePolicyDocument),
    ...(r.Description ? { description: r.Description } : {}),
    tags: tagsFromList(
      r.Tags,
      (t) => t.Key,
      (t) => t.Value,
    ),
  };
}

export function createSdkIamApi(
  settings: AwsSettings,
  client = new IAMClient(sdkClientConfig(settings)),
): IamApi {
  return {
    async getRole(name) {
      const out = await awsCall(
        op('GetRole', name),
        () => client.send(new GetRoleCommand({ RoleName: name })),
        NOT_FOUND,
      );
      return out?.Role ? role(out.Role, name) : undefined;
    },
    async createRole(input) {
      const out = await awsCallStrict(op('CreateRole', input.name), () =>
        client.send(
          new CreateRoleCommand({
            RoleName: input.name,
            AssumeRolePolicyDocument: input.assumeRolePolicy,
            Description: input.description,
            Tags: tagList(input.tags, 'Key', 'Value'),
          }),
        ),
      );
      return role(out.Role, input.name);
    },
    async updateAssumeRolePolicy(roleName, policy) {
      await awsCallStrict(op('UpdateAssumeRolePolicy', roleName), () =>
        client.send(
          new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: policy }),
        ),
      );
    },
    async tagRole(roleName, tags) {
      await awsCallStrict(op('TagRole', roleName), () =>
        client.send(
          new TagRoleCommand({ RoleName: roleName, Tags: tagList(tags, 'Key', 'Value') }),
        ),
      );
    },
    async listAttachedPolicyArns(roleName) {
      const arns: string[] = [];
      let marker: string | undefined;
      do {
        const m = marker;
        const out = await awsCall(
          op('ListAttachedRolePolicies', roleName),
          () =>
            client.send(
              new ListAttachedRolePoliciesCommand({
                RoleName: roleName,
                ...(m ? { Marker: m } : {}),
              }),
            ),
          NOT_FOUND,
        );
        for (const p of out?.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
        marker = out?.IsTruncated ? out.Marker : undefined;
      } while (marker);
      return arns;
    },
    async attachPolicy(roleName, policyArn) {
      await awsCallStrict(op('AttachRolePolicy', roleName), () =>
        client.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn })),
      );
    },
    async detachPolicy(roleName, policyArn) {
      await awsCall(
        op('DetachRolePolicy', roleName),
        () =>
          client.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn })),
        NOT_FOUND,
      );
    },
    async listInlinePolicyNames(roleName) {
      const names: string[] = [];
      let marker: string | undefined;
      do {
        const m = marker;
        const out = await awsCall(
          op('ListRolePolicies', roleName),
          () =>
            client.send(
              new ListRolePoliciesCommand({ RoleName: roleName, ...(m ? { Marker: m } : {}) }),
            ),
          NOT_FOUND,
        );
        names.push(...(out?.PolicyNames ?? []));
        marker = out?.IsTruncated ? out.Marker : undefined;
      } while (marker);
      return names;
    },
    async getInlinePolicy(roleName, policyName) {
      const out = await awsCall(
        op('GetRolePolicy', `${roleName}/${policyName}`),
        () => client.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
        NOT_FOUND,
      );
      return out?.PolicyDocument === undefined ? undefined : decodePolicy(out.PolicyDocument);
    },
    async putInlinePolicy(roleName, policyName, policy) {
      await awsCallStrict(op('PutRolePolicy', roleName), () =>
        client.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: policyName,
            PolicyDocument: policy,
          }),
        ),
      );
    },
    async deleteInlinePolicy(roleName, policyName) {
      await awsCall(
        op('DeleteRolePolicy', roleName),
        () =>
          client.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
        NOT_FOUND,
      );
    },
    async deleteRole(roleName) {
      await awsCall(
        op('DeleteRole', roleName),
        () => client.send(new DeleteRoleCommand({ RoleName: roleName })),
        NOT_FOUND,
      );
    },
  };
}
