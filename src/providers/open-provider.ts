/**
 * The one place that switches on the provider's name. Each branch imports its provider
 * lazily, so a local run never loads the AWS SDK adapters (and the reverse).
 */
import type { LoadedConfig } from '../config/load-config.js';
import { assertNever } from '../core/errors.js';
import type { Provider, ProviderOptions } from './provider.js';

export async function openProvider(
  loaded: LoadedConfig,
  options: ProviderOptions,
): Promise<Provider> {
  const { name, ...rest } = options;
  switch (name) {
    case 'local':
      return (await import('./local/local-provider.js')).localProvider(loaded, rest);
    case 'aws':
      return (await import('./aws/aws-provider.js')).awsProvider(loaded, rest);
    default:
      return assertNever(name, 'provider');
  }
}
