/**
 * The subset of the GitHub Actions workflow syntax berth generates, typed so a mistake is a
 * compile error rather than a workflow GitHub rejects. Field names are GitHub's.
 */
export type Expression = `\${{ ${string} }}`;

export interface ChoiceInput {
  description: string;
  type: 'choice';
  required: boolean;
  options: string[];
  default?: string;
}

export interface BooleanInput {
  description: string;
  type: 'boolean';
  required: boolean;
  default: boolean;
}

export interface StringInput {
  description: string;
  type: 'string';
  required: boolean;
  default?: string;
}

export type WorkflowInput = ChoiceInput | BooleanInput | StringInput;

export type PermissionLevel = 'read' | 'write' | 'none';
export type Permissions = Partial<
  Record<'contents' | 'id-token' | 'actions' | 'checks' | 'pull-requests', PermissionLevel>
>;

export interface Concurrency {
  group: string;
  'cancel-in-progress': boolean;
}

export interface UsesStep {
  name: string;
  id?: string;
  if?: string;
  uses: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}

export interface RunStep {
  name: string;
  id?: string;
  if?: string;
  run: string;
  shell?: 'bash';
  env?: Record<string, string>;
  'working-directory'?: string;
}

export type Step = UsesStep | RunStep;

export interface Service {
  image: string;
  ports?: string[];
}

export interface Job {
  name: string;
  'runs-on': string;
  needs?: string[];
  if?: string;
  environment?: string | { name: string; url?: string };
  permissions?: Permissions;
  concurrency?: Concurrency;
  outputs?: Record<string, string>;
  'timeout-minutes'?: number;
  env?: Record<string, string>;
  services?: Record<string, Service>;
  steps: Step[];
}

export interface Workflow {
  name: string;
  'run-name'?: string;
  on: {
    workflow_dispatch?: { inputs: Record<string, WorkflowInput> };
    push?: { branches: string[] };
    pull_request?: Record<string, never> | { branches: string[] };
  };
  permissions: Permissions;
  concurrency?: Concurrency;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}
