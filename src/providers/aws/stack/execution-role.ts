/**
 * Step 3 of the seed: the task execution role. ECS assumes it to pull the image (AWS-managed
 * AmazonECSTaskExecutionRolePolicy, which also lets it write logs) and to read exactly the
 * configured database secret, task.secrets' secrets (secretsmanager:GetSecretValue) and
 * parameters (ssm:GetParameters) (inline policy), plus kms:Decrypt when one uses a customer
 * key.
 */
import { roleResource, type RoleDesired } from './iam-role.js';
import {
  EXECUTION_ROLE_INLINE_POLICY,
  executionInlinePolicy,
  executionRoleManagedPolicy,
  executionTrustPolicy,
} from './policies.js';
import type { StackSpec } from './types.js';
import { resolvedTaskSecrets } from './references.js';

export function desiredExecutionRole(spec: StackSpec): RoleDesired {
  const { config, refs } = spec;
  return {
    name: config.roles.execution,
    description: `berth ${config.app}: ECS task execution role (pull the image, read the database secret, write logs)`,
    trustPolicy: executionTrustPolicy(),
    managedPolicyArns: [executionRoleManagedPolicy(refs.partition)],
    inlinePolicies: {
      [EXECUTION_ROLE_INLINE_POLICY]: executionInlinePolicy(
        refs.secret.arn,
        config.database.secret.kmsKey,
        resolvedTaskSecrets(config, refs),
      ),
    },
    tags: spec.tags,
  };
}

export const executionRole = roleResource({
  kind: 'execution-role',
  title: 'IAM task execution role',
  name: (config) => config.roles.execution,
  inlinePolicyNames: [EXECUTION_ROLE_INLINE_POLICY],
  desired: desiredExecutionRole,
  outputs: (role) => ({
    ECS_TASK_EXECUTION_ROLE_NAME: role.name,
    ECS_TASK_EXECUTION_ROLE_ARN: role.arn,
  }),
});
