/**
 * A user's TypeScript, compiled and run against the packed tarball by scripts/pack-smoke.sh:
 * proves the `exports` map resolves both entries, at compile time (their .d.ts) and at run
 * time (their .js). Add a line for any public API worth guarding. The `@ts-expect-error`
 * lines prove a name is really typed: each fails the compile if its type degrades to `any`.
 */
import {
  ExitCode,
  isBerthError,
  migrateFleet,
  openProvider,
  parseConfig,
  type FleetResult,
  type Provider,
} from 'berth-cli';
import { createAwsFake, type AwsFake } from 'berth-cli/testing';

/** Compiled, never called. */
export function typeChecks(fake: AwsFake): Promise<FleetResult> {
  // @ts-expect-error migrateFleet needs a backend and options
  void migrateFleet();
  // @ts-expect-error the fake's clients have no such service
  void fake.clients.notAService;
  // @ts-expect-error a provider is named local or aws
  void openProvider({ config: parseConfig(''), dir: '.', file: 'berth.yaml' }, { name: 'gcp' });
  // @ts-expect-error ExitCode values are numbers
  const code: string = ExitCode.ok;
  void code;
  return Promise.reject(new Error('not called'));
}

// Run time: both entries load and do what they say.
const fake: AwsFake = createAwsFake({ region: 'us-east-1' });
if (typeof migrateFleet !== 'function')
  throw new Error('berth-cli: migrateFleet is not a function');
if (ExitCode.ok !== 0 || isBerthError(new Error('x')))
  throw new Error('berth-cli: ExitCode or isBerthError is wrong');
if ((await fake.clients.ecs.describeCluster('none')) !== undefined)
  throw new Error('berth-cli/testing: the fake invented a cluster');
// The seam: a program opens a provider as the CLI does (nothing starts until it is used).
const here = process.cwd();
const { loadConfig } = await import('berth-cli');
const provider: Provider = await openProvider(await loadConfig(`${here}/berth.yaml`), {
  name: 'local',
  reporter: { emit: () => undefined },
});
if (provider.name !== 'local' || !provider.server || provider.stack)
  throw new Error('berth-cli: openProvider did not give the local provider');
console.log(`consumer: ${(await provider.tenants()).length} tenant(s) from openProvider`);
console.log('consumer: berth-cli and berth-cli/testing load, with their types');
