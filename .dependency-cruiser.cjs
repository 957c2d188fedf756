/**
 * berth's layering, checked in `npm run check` (`npm run lint:layers`):
 *
 *   cli → pipeline → providers → {fleet, migrations, image, ci} → {state, config, tasks} → core
 *
 * Dependencies point down. A type-only import may reach sideways where a lower layer names a
 * shape defined beside it (e.g. the journal stores fleet results): types carry no behaviour
 * and vanish from the build. Inside the aws provider: tasks → stack → api.
 */
const layer = (name) => `^src/${name}/`;
const below = {
  core: [],
  state: ['core', 'config', 'tasks'],
  config: ['core'],
  tasks: ['core'],
  fleet: ['core', 'state', 'config', 'tasks', 'migrations'],
  migrations: ['core', 'config'],
  image: ['core', 'state', 'config', 'tasks'],
  ci: ['core', 'config'],
};

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle between files makes both untestable alone; break it with an interface.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...Object.entries(below).map(([name, allowed]) => ({
      name: `${name}-imports-only-below`,
      severity: 'error',
      comment: `src/${name} may import only ${allowed.length ? allowed.join(', ') : 'node and packages'} (see DESIGN.md, Layout).`,
      from: { path: layer(name) },
      to: {
        path: '^src/',
        pathNot: [layer(name), ...allowed.map(layer)],
        dependencyTypesNot: ['type-only'],
      },
    })),
    {
      name: 'providers-below-pipeline-and-cli',
      severity: 'error',
      from: { path: layer('providers') },
      to: { path: ['^src/pipeline/', '^src/cli/', '^src/index\\.ts$', '^src/testing\\.ts$'] },
    },
    {
      name: 'pipeline-below-cli',
      severity: 'error',
      from: { path: layer('pipeline') },
      to: { path: ['^src/cli/', '^src/index\\.ts$', '^src/testing\\.ts$'] },
    },
    {
      name: 'cli-is-the-top',
      severity: 'error',
      comment: 'Nothing in the library imports the CLI.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'one-switch-on-the-provider',
      severity: 'error',
      comment: 'Only open-provider.ts (and the seam types) may reach into a provider from above.',
      // cli/render/stack.ts reads the stack's resource titles: presentation data, no behaviour.
      from: { path: '^src/(cli|pipeline)/', pathNot: '^src/cli/render/stack\\.ts$' },
      to: { path: '^src/providers/(local|aws)/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'providers-apart',
      severity: 'error',
      comment: 'The local and aws providers do not use each other.',
      from: { path: '^src/providers/local/' },
      to: { path: '^src/providers/aws/' },
    },
    {
      name: 'aws-providers-apart',
      severity: 'error',
      from: { path: '^src/providers/aws/' },
      to: { path: '^src/providers/local/' },
    },
    {
      name: 'aws-api-is-the-ground',
      severity: 'error',
      comment: 'Inside the aws provider: tasks → stack → api.',
      from: { path: '^src/providers/aws/api/' },
      to: { path: ['^src/providers/aws/(stack|tasks)/', '^src/providers/aws/[^/]+\\.ts$'] },
    },
    {
      name: 'aws-stack-below-tasks',
      severity: 'error',
      from: { path: '^src/providers/aws/stack/' },
      to: { path: ['^src/providers/aws/tasks/', '^src/providers/aws/[^/]+\\.ts$'] },
    },
    {
      name: 'aws-fake-only-from-testing',
      severity: 'error',
      comment: 'The in-memory AWS fake is the berth/testing entry, never part of the library.',
      from: { path: '^src/', pathNot: ['^src/testing\\.ts$', '^src/providers/aws/fake/'] },
      to: { path: '^src/providers/aws/fake/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
