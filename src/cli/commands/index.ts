/** Routes a parsed command to its implementation; every command returns its exit code. */
import type { Command } from 'commander';
import { assertNever } from '../../core/errors.js';
import type { CommandName } from '../command-names.js';
import { createContext, type GlobalOptions } from '../context.js';

export async function dispatch(
  name: CommandName,
  options: GlobalOptions & Record<string, unknown>,
  args: unknown[],
  program: Command,
): Promise<number> {
  const ctx = createContext(options);
  // Commander validated the options against each command's declaration.
  const o = <T>(): T => options as unknown as T;
  const command = name;
  switch (command) {
    case 'migrate':
      return (await import('./migrate.js')).migrateCommand(ctx, o());
    case 'lint':
      return (await import('./lint.js')).lintCommand(ctx, o());
    case 'verify':
      return (await import('./verify.js')).verifyCommand(ctx, o());
    case 'status':
      return (await import('./status.js')).statusCommand(ctx);
    case 'logs':
      return (await import('./logs.js')).logsCommand(ctx, String(args[0]), o());
    case 'pipeline':
      return (await import('./pipeline.js')).pipelineCommand(ctx, o());
    case 'init':
      return (await import('./init.js')).initCommand(ctx, o());
    case 'tasks-list':
      return (await import('./tasks.js')).tasksListCommand(ctx, o());
    case 'tasks-stop':
      return (await import('./tasks.js')).tasksStopCommand(
        ctx,
        (args[0] as string[] | undefined) ?? [],
        o(),
      );
    case 'runs-list':
      return (await import('./runs.js')).runsListCommand(ctx);
    case 'runs-show':
      return (await import('./runs.js')).runsShowCommand(ctx, String(args[0]));
    case 'prune':
      return (await import('./prune.js')).pruneCommand(ctx, o());
    case 'completion':
      return (await import('./completion.js')).completionCommand(ctx, String(args[0]), program);
    case 'doctor':
      return (await import('./doctor.js')).doctorCommand(ctx);
    case 'config-validate':
      return (await import('./config.js')).configValidateCommand(ctx);
    case 'config-schema':
      return (await import('./config.js')).configSchemaCommand(ctx);
    case 'local-start':
      return (await import('./local.js')).localStartCommand(ctx);
    case 'local-stop':
      return (await import('./local.js')).localStopCommand(ctx, o());
    case 'plan':
      return (await import('./infra.js')).planCommand(ctx, o());
    case 'up':
      return (await import('./infra.js')).upCommand(ctx, o());
    case 'down':
      return (await import('./infra.js')).downCommand(ctx, o());
    case 'show':
      return (await import('./infra.js')).showCommand(ctx);
    case 'iam-ci-policy':
      return (await import('./infra.js')).iamCiPolicyCommand(ctx, o());
    case 'iam-github-oidc':
      return (await import('./infra.js')).iamGithubOidcCommand(ctx, o());
    case 'build':
      return (await import('./image.js')).buildCommand(ctx, o());
    case 'push':
      return (await import('./image.js')).pushCommand(ctx, o());
    case 'ci-init':
      return (await import('./ci.js')).ciInitCommand(ctx, o());
    case 'snippet':
      return (await import('./snippet.js')).snippetCommand(ctx, {
        ...o<{ app?: string; force?: boolean }>(),
        name: args[0] === 'django-probe' ? 'django-probe' : 'django',
      });
    default:
      return assertNever(command, 'command');
  }
}
