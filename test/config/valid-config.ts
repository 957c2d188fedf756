/** The seed's berth.yaml, valid; the config tests break it one field at a time. */
export const VALID = `version: 1
app: startupwebapp
registry: { name: startupwebapp-backend }
cluster: { name: startupwebapp-cluster }
logs: { group: /ecs/startupwebapp-migrations, retentionDays: 7 }
roles: { execution: ecsTaskExecutionRole-startupwebapp, task: ecsTaskRole-startupwebapp }
task:
  family: startupwebapp-migration-task
  command: [node, dist/migrate.js]
database:
  secret: { name: rds/startupwebapp/multi-tenant/master }
  tenants: [startupwebapp_prod, healthtech_experiment, fintech_experiment]
  expectedTables: 57
migrations: { directory: migrations }
`;
