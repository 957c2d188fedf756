/** The IAM calls berth makes for the task execution role and the task role. */
import type { Tags } from './types.js';

export interface IamRole {
  name: string;
  arn: string;
  /** The trust policy as JSON text (already URL-decoded). */
  assumeRolePolicy: string;
  description?: string;
  tags: Tags;
}

export interface CreateRoleInput {
  name: string;
  assumeRolePolicy: string;
  description: string;
  tags: Tags;
}

export interface IamApi {
  getRole(name: string): Promise<IamRole | undefined>;
  createRole(input: CreateRoleInput): Promise<IamRole>;
  updateAssumeRolePolicy(roleName: string, policy: string): Promise<void>;
  tagRole(roleName: string, tags: Tags): Promise<void>;
  /** Empty when the role does not exist. */
  listAttachedPolicyArns(roleName: string): Promise<string[]>;
  attachPolicy(roleName: string, policyArn: string): Promise<void>;
  detachPolicy(roleName: string, policyArn: string): Promise<void>;
  /** Empty when the role does not exist. */
  listInlinePolicyNames(roleName: string): Promise<string[]>;
  /** The inline policy document as JSON text (URL-decoded), or undefined. */
  getInlinePolicy(roleName: string, policyName: string): Promise<string | undefined>;
  putInlinePolicy(roleName: string, policyName: string, policy: string): Promise<void>;
  deleteInlinePolicy(roleName: string, policyName: string): Promise<void>;
  deleteRole(roleName: string): Promise<void>;
}
