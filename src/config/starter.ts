/** The commented starter file `berth init` writes: the seed's stack, every section explained. */
export function starterConfig(app = 'startupwebapp'): string {
  return `# berth.yaml — one stack, its tenant databases and how to migrate them.
# Full reference: README.md "Config reference". Check it with \`berth config validate\`.
# yaml-language-server: $schema=./schema/berth.schema.json
version: 1
app: ${app}              # stack name: tags, outputs, confirmation prompts
provider: local          # local (embedded PostgreSQL 16) or aws; --provider overrides
tags:                    # on every AWS resource (berth adds managed-by=berth and stack)
  Environment: Production
  Application: StartupWebApp

aws:
  region: us-east-1
  # profile: my-profile  # or AWS_PROFILE / --profile
  # endpoint: http://127.0.0.1:4566   # an AWS-compatible emulator (or AWS_ENDPOINT_URL)

registry:                # ECR repository
  name: ${app}-backend
  scanOnPush: true
  encryption: AES256     # or KMS with kmsKey
  keepImages: 10         # lifecycle policy
  # local: 127.0.0.1:5000  # registry the local provider pushes to

cluster:
  name: ${app}-cluster   # ECS cluster, Fargate capacity providers

logs:
  group: /ecs/${app}-migrations
  retentionDays: 7
  streamPrefix: migration

roles:
  execution: ecsTaskExecutionRole-${app}   # pulls the image, reads the secret, writes logs
  task: ecsTaskRole-${app}                 # the app's own permissions (none by default)

network:                 # prerequisites berth reads, never creates
  subnets: []            # private subnets for the tasks (required for aws)
  # backendSecurityGroup: sg-0123 or its Name tag
  # databaseSecurityGroup: sg-0456 or its Name tag

task:
  family: ${app}-migration-task
  cpu: 256               # 0.25 vCPU
  memory: 512            # MiB
  command: [python, manage.py, migrate]
  # checkCommand: [python, manage.py, migrate, --check]
  environment: {}
  timeoutSeconds: 600

database:
  secret:
    name: rds/${app}/multi-tenant/master   # JSON with username, password, host, port
  tenants:               # or { file: tenants.txt } or { query: "SELECT ...", database: postgres }
    - ${app.replace(/-/g, '_')}_prod
  expectedTables: 57

migrations:
  directory: migrations  # pending = files here not yet in the history table
  table: pgmigrations

fleet:
  concurrency: 3
  onError: stop          # or continue
  batchSize: 1
`;
}
