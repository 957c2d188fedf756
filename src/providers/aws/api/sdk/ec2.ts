import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateTagsCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  EC2Client,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type Filter,
  type IpPermission,
  type SecurityGroupRule as SdkRule,
} from '@aws-sdk/client-ec2';
import type { Ec2Api, RuleSpec, SecurityGroup, SecurityGroupRule, Subnet } from '../ec2-api.js';
import { awsCall, awsCallStrict } from '../errors.js';
import type { AwsSettings } from '../types.js';
import { sdkClientConfig, tagList, tagsFromList } from './common.js';

const op = (action: string, resource?: string) => ({
  service: 'ec2',
  action,
  ...(resource ? { resource } : {}),
});

function rule(r: SdkRule): SecurityGroupRule {
  return {
    id: r.SecurityGroupRuleId ?? '',
    groupId: r.GroupId ?? '',
    direction: r.IsEgress ? 'egress' : 'ingress',
    protocol: r.IpProtocol ?? '-1',
    fromPort: r.FromPort ?? -1,
    toPort: r.ToPort ?? -1,
    ...(r.CidrIpv4 ? { cidrIpv4: r.CidrIpv4 } : {}),
    ...(r.ReferencedGroupInfo?.GroupId ? { referencedGroupId: r.ReferencedGroupInfo.GroupId } : {}),
    ...(r.Description ? { description: r.Description } : {}),
    tags: tagsFromList(
      r.Tags,
      (t) => t.Key,
      (t) => t.Value,
    ),
  };
}

export function ipPermission(spec: RuleSpec): IpPermission {
  return {
    IpProtocol: spec.protocol,
    FromPort: spec.fromPort,
    ToPort: spec.toPort,
    ...(spec.cidrIpv4
      ? { IpRanges: [{ CidrIp: spec.cidrIpv4, Description: spec.description }] }
      : {}),
    ...(spec.referencedGroupId
      ? { UserIdGroupPairs: [{ GroupId: spec.referencedGroupId, Description: spec.description }] }
      : {}),
  };
}

export function createSdkEc2Api(
  settings: AwsSettings,
  client = new EC2Client(sdkClientConfig(settings)),
): Ec2Api {
  async function describeGroups(filter: Filter): Promise<SecurityGroup[]> {
    const groups: SecurityGroup[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      // Filters, not GroupIds: a missing ID then yields no match instead of an error.
      const out = await awsCallStrict(op('DescribeSecurityGroups', filter.Values?.join(',')), () =>
        client.send(
          new DescribeSecurityGroupsCommand({
            Filters: [filter],
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      for (const g of out.SecurityGroups ?? []) {
        groups.push({
          id: g.GroupId ?? '',
          groupName: g.GroupName ?? '',
          vpcId: g.VpcId ?? '',
          tags: tagsFromList(
            g.Tags,
            (t) => t.Key,
            (t) => t.Value,
          ),
        });
      }
      nextToken = out.NextToken;
    } while (nextToken);
    return groups;
  }

  return {
    async describeSubnets(ids) {
      if (ids.length === 0) return [];
      const subnets: Subnet[] = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        // A filter, not SubnetIds: a missing ID then yields no match instead of an error.
        const out = await awsCallStrict(op('DescribeSubnets', ids.join(',')), () =>
          client.send(
            new DescribeSubnetsCommand({
              Filters: [{ Name: 'subnet-id', Values: ids }],
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        );
        for (const s of out.Subnets ?? [])
          subnets.push({ id: s.SubnetId ?? '', vpcId: s.VpcId ?? '' });
        nextToken = out.NextToken;
      } while (nextToken);
      return subnets;
    },
    async describeSecurityGroups(query) {
      const filters: Filter[] = [];
      if (query.ids?.length) filters.push({ Name: 'group-id', Values: query.ids });
      if (query.nameTags?.length) filters.push({ Name: 'tag:Name', Values: query.nameTags });
      if (query.groupNames?.length) filters.push({ Name: 'group-name', Values: query.groupNames });
      const results = await Promise.all(filters.map(describeGroups));
      const byId = new Map<string, SecurityGroup>();
      for (const g of results.flat()) byId.set(g.id, g);
      return [...byId.values()];
    },
    async describeSecurityGroupRules(query) {
      const filters: Filter[] = [];
      if (query.groupIds?.length) filters.push({ Name: 'group-id', Values: query.groupIds });
      for (const [key, value] of Object.entries(query.tags ?? {}).sort(([a], [b]) =>
        a.localeCompare(b),
      ))
        filters.push({ Name: `tag:${key}`, Values: [value] });
      const rules: SecurityGroupRule[] = [];
      let nextToken: string | undefined;
      do {
        const token = nextToken;
        const out = await awsCallStrict(
          op('DescribeSecurityGroupRules', query.groupIds?.join(',')),
          () =>
            client.send(
              new DescribeSecurityGroupRulesCommand({
                Filters: filters,
                MaxResults: 1000,
                ...(token ? { NextToken: token } : {}),
              }),
            ),
        );
        rules.push(...(out.SecurityGroupRules ?? []).map(rule));
        nextToken = out.NextToken;
      } while (nextToken);
      return rules;
    },
    async authorizeRule(spec, tags) {
      const input = {
        GroupId: spec.groupId,
        IpPermissions: [ipPermission(spec)],
        TagSpecifications: [
          { ResourceType: 'security-group-rule' as const, Tags: tagList(tags, 'Key', 'Value') },
        ],
      };
      const out =
        spec.direction === 'egress'
          ? await awsCallStrict(op('AuthorizeSecurityGroupEgress', spec.groupId), () =>
              client.send(new AuthorizeSecurityGroupEgressCommand(input)),
            )
          : await awsCallStrict(op('AuthorizeSecurityGroupIngress', spec.groupId), () =>
              client.send(new AuthorizeSecurityGroupIngressCommand(input)),
            );
      const created = out.SecurityGroupRules?.[0];
      return created
        ? rule(created)
        : {
            id: '',
            groupId: spec.groupId,
            direction: spec.direction,
            protocol: spec.protocol,
            fromPort: spec.fromPort,
            toPort: spec.toPort,
            ...(spec.cidrIpv4 ? { cidrIpv4: spec.cidrIpv4 } : {}),
            ...(spec.referencedGroupId ? { referencedGroupId: spec.referencedGroupId } : {}),
            description: spec.description,
            tags,
          };
    },
    async revokeRules(groupId, direction, ruleIds) {
      if (ruleIds.length === 0) return;
      const notFound = [
        'InvalidPermission.NotFound',
        'InvalidSecurityGroupRuleId.NotFound',
        'InvalidGroup.NotFound',
      ];
      if (direction === 'egress') {
        await awsCall(
          op('RevokeSecurityGroupEgress', groupId),
          () =>
            client.send(
              new RevokeSecurityGroupEgressCommand({
                GroupId: groupId,
                SecurityGroupRuleIds: ruleIds,
              }),
            ),
          notFound,
        );
      } else {
        await awsCall(
          op('RevokeSecurityGroupIngress', groupId),
          () =>
            client.send(
              new RevokeSecurityGroupIngressCommand({
                GroupId: groupId,
                SecurityGroupRuleIds: ruleIds,
              }),
            ),
          notFound,
        );
      }
    },
    async tagRules(ruleIds, tags) {
      if (ruleIds.length === 0) return;
      await awsCallStrict(op('CreateTags', ruleIds.join(',')), () =>
        client.send(
          new CreateTagsCommand({ Resources: ruleIds, Tags: tagList(tags, 'Key', 'Value') }),
        ),
      );
    },
  };
}
