/** Settings every SDK client berth builds shares. Only ./sdk/* import the AWS SDK. */
import type { AwsSettings, Tags } from '../types.js';
import { silenceSdkNodeVersionWarning } from '../node-warning.js';

export interface SdkClientConfig {
  region: string;
  profile?: string;
  endpoint?: string;
  retryMode: 'adaptive';
  maxAttempts: number;
}

export function sdkClientConfig(settings: AwsSettings): SdkClientConfig {
  // Before the client constructor runs: that is where the SDK emits its Node version warning.
  silenceSdkNodeVersionWarning();
  return {
    region: settings.region,
    ...(settings.profile ? { profile: settings.profile } : {}),
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    retryMode: 'adaptive',
    maxAttempts: 5,
  };
}

export function tagsFromList<T>(
  list: readonly T[] | undefined,
  key: (t: T) => string | undefined,
  value: (t: T) => string | undefined,
): Tags {
  const tags: Tags = {};
  for (const item of list ?? []) {
    const k = key(item);
    if (k !== undefined) tags[k] = value(item) ?? '';
  }
  return tags;
}

/** Map → list in key order, so requests are deterministic (and tests can pin them). */
export function tagList<K extends string, V extends string>(
  tags: Tags,
  keyName: K,
  valueName: V,
): Record<K | V, string>[] {
  return Object.keys(tags)
    .sort()
    .map((k) => ({ [keyName]: k, [valueName]: tags[k] ?? '' }) as Record<K | V, string>);
}
