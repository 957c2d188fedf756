/**
 * The EC2 calls berth makes: it reads existing subnets and security groups (prerequisites it
 * never creates or deletes) and adds, tags and revokes its own rules on the groups.
 */
import type { Tags } from './types.js';

export interface SecurityGroup {
  id: string;
  groupName: string;
  vpcId: string;
  tags: Tags;
}

export interface Subnet {
  id: string;
  vpcId: string;
}

export type RuleDirection = 'ingress' | 'egress';

export interface SecurityGroupRule {
  id: string;
  groupId: string;
  direction: RuleDirection;
  /** tcp, udp, icmp or -1 (all). */
  protocol: string;
  fromPort: number;
  toPort: number;
  cidrIpv4?: string;
  referencedGroupId?: string;
  description?: string;
  tags: Tags;
}

export interface RuleSpec {
  groupId: string;
  direction: RuleDirection;
  protocol: 'tcp';
  fromPort: number;
  toPort: number;
  /** Exactly one of cidrIpv4 and referencedGroupId. */
  cidrIpv4?: string;
  referencedGroupId?: string;
  description: string;
}

export interface SecurityGroupQuery {
  ids?: string[];
  /** Matches the `Name` tag. */
  nameTags?: string[];
  /** Matches the group name. */
  groupNames?: string[];
}

export interface SecurityGroupRuleQuery {
  groupIds?: string[];
  /** Rules carrying every one of these tags. */
  tags?: Tags;
}

export interface Ec2Api {
  /** The subnets among `ids` that exist; a missing one is simply not in the answer. */
  describeSubnets(ids: string[]): Promise<Subnet[]>;
  describeSecurityGroups(query: SecurityGroupQuery): Promise<SecurityGroup[]>;
  describeSecurityGroupRules(query: SecurityGroupRuleQuery): Promise<SecurityGroupRule[]>;
  /** Adds one rule, tagged, and returns it. */
  authorizeRule(rule: RuleSpec, tags: Tags): Promise<SecurityGroupRule>;
  revokeRules(groupId: string, direction: RuleDirection, ruleIds: string[]): Promise<void>;
  tagRules(ruleIds: string[], tags: Tags): Promise<void>;
}
