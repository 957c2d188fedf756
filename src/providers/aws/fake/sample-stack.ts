/**
 * The seed's stack (berth.yaml of this repository, provider aws) and its prerequisites in a
 * fake AWS: what the fake's tests, the flow tests and the bench start from.
 */
import { parseConfig } from '../../../config/load-config.js';
import type { Config } from '../../../config/schema.js';
import type { SecurityGroup, Subnet } from '../api/ec2-api.js';
import type { SecretDescription } from '../api/secrets-api.js';
import type { AwsFake } from './aws-fake.js';

export const SAMPLE_CONFIG_YAML = `
version: 1
app: startupwebapp
provider: aws
tags:
  Environment: Production
  Application: StartupWebApp
aws:
  region: us-east-1
registry:
  name: startupwebapp-backend
  keepImages: 10
  tags:
    Name: startupwebapp-backend
cluster:
  name: startupwebapp-cluster
logs:
  group: /ecs/startupwebapp-migrations
  retentionDays: 7
  streamPrefix: migration
roles:
  execution: ecsTaskExecutionRole-startupwebapp
  task: ecsTaskRole-startupwebapp
network:
  subnets: [subnet-0aaa1111, subnet-0bbb2222]
  backendSecurityGroup: startupwebapp-backend-sg
  databaseSecurityGroup: startupwebapp-rds-sg
task:
  family: startupwebapp-migration-task
  containerName: migration
  cpu: 256
  memory: 512
  command: [node, dist/migrate.js]
  environment:
    NODE_ENV: production
    AWS_REGION: us-east-1
    DB_SECRET_NAME: rds/startupwebapp/multi-tenant/master
database:
  secret:
    name: rds/startupwebapp/multi-tenant/master
  tenants: [startupwebapp_prod, healthtech_experiment, fintech_experiment]
  expectedTables: 57
migrations:
  directory: migrations
`;

/** The sample config; `patch` edits the YAML text first (e.g. to change a retention). */
export function sampleConfig(patch: (yaml: string) => string = (y) => y): Config {
  return parseConfig(patch(SAMPLE_CONFIG_YAML), 'sample berth.yaml');
}

export interface SamplePrerequisites {
  secret: SecretDescription;
  subnets: Subnet[];
  backendGroup: SecurityGroup;
  databaseGroup: SecurityGroup;
}

/**
 * Creates what Phase 9 built before the seed: the RDS secret, the private subnets berth.yaml
 * names and the two security groups, all in one VPC.
 */
export function seedPrerequisites(fake: AwsFake, config: Config): SamplePrerequisites {
  const secret = fake.addSecret(config.database.secret.name);
  const vpcId = 'vpc-0seed';
  const subnets = config.network.subnets.map((id) => fake.addSubnet({ id, vpcId }));
  const backendName = config.network.backendSecurityGroup ?? 'backend-sg';
  const databaseName = config.network.databaseSecurityGroup ?? 'database-sg';
  const backendGroup = fake.addSecurityGroup({ name: backendName, nameTag: backendName, vpcId });
  const databaseGroup = fake.addSecurityGroup({ name: databaseName, nameTag: databaseName, vpcId });
  return { secret, subnets, backendGroup, databaseGroup };
}
