/**
 * Step 3 of the seed: the task role, what the migration code itself runs as. It has no
 * permissions unless berth.yaml lists managed policies in roles.taskPolicyArns: migrations
 * talk to PostgreSQL, not to AWS.
 */
import { roleResource, type RoleDesired } from './iam-role.js';
import { taskTrustPolicy } from './policies.js';
import type { StackSpec } from './types.js';

export function desiredTaskRole(spec: StackSpec): RoleDesired {
  const { config, refs } = spec;
  return {
    name: config.roles.task,
    description: `berth ${config.app}: ECS task role (the application's own AWS permissions)`,
    trustPolicy: taskTrustPolicy(refs.account, refs.partition, spec.region),
    managedPolicyArns: [...config.roles.taskPolicyArns],
    inlinePolicies: {},
    tags: spec.tags,
  };
}

export const taskRole = roleResource({
  kind: 'task-role',
  title: 'IAM task role',
  name: (config) => config.roles.task,
  inlinePolicyNames: [],
  desired: desiredTaskRole,
  outputs: (role) => ({ ECS_TASK_ROLE_NAME: role.name, ECS_TASK_ROLE_ARN: role.arn }),
});
