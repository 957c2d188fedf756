/**
 * task.secrets on the local provider. There is no Secrets Manager or Parameter Store here, so
 * each variable — a secret or a parameter on AWS alike — comes from berth's own environment
 * under the same name (as a CI job passes its secrets, or a developer exports them): the task
 * gets the value, the redactor learns it, and berth.yaml and .berth/ never hold it. A name that
 * is not set stops the command before anything runs: the task on AWS would get it, so a local
 * run without it would not be the same pipeline.
 */
import { taskSecrets, type Config } from '../../config/schema.js';
import { BerthError } from '../../core/errors.js';
import { redactor } from '../../core/redact.js';

/** The names of task.secrets that are unset or empty in `environment`. */
export function missingTaskSecrets(
  config: Config,
  environment: NodeJS.ProcessEnv = process.env,
): string[] {
  return taskSecrets(config)
    .map((s) => s.name)
    .filter((name) => !environment[name]);
}

export function localTaskSecrets(
  config: Config,
  environment: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const missing = missingTaskSecrets(config, environment);
  if (missing.length > 0) {
    const first = missing[0] ?? '';
    throw new BerthError(
      'CONFIG_INVALID',
      `task.secrets: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set in berth's environment; on the local provider a task gets each of task.secrets from there (on AWS, from Secrets Manager or Parameter Store)`,
      {
        hint: `set ${missing.length === 1 ? 'it' : 'them'} before running berth, e.g. \`export ${first}=…\` (in CI, from the CI system's secrets); nothing was run`,
        details: { paths: missing.map((name) => `task.secrets.${name}`) },
      },
    );
  }
  const values: Record<string, string> = {};
  for (const { name } of taskSecrets(config)) {
    const value = environment[name] ?? '';
    redactor.add(value);
    values[name] = value;
  }
  return values;
}
