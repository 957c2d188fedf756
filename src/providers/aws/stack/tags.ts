/** berth's ownership tags: `down` deletes, and `up` changes, only what carries both. */
import type { Config } from '../../../config/schema.js';
import type { Tags } from '../api/types.js';

export const MANAGED_BY_KEY = 'managed-by';
export const MANAGED_BY_VALUE = 'berth';
export const STACK_KEY = 'stack';

export function ownershipTags(app: string): Tags {
  return { [MANAGED_BY_KEY]: MANAGED_BY_VALUE, [STACK_KEY]: app };
}

/** berth.yaml `tags` + ownership tags (ownership wins over a same-named user tag). */
export function stackTags(config: Config): Tags {
  return { ...config.tags, ...ownershipTags(config.app) };
}

export function isOwned(tags: Tags, app: string): boolean {
  return tags[MANAGED_BY_KEY] === MANAGED_BY_VALUE && tags[STACK_KEY] === app;
}

/** The description berth puts on its security-group rules. */
export function ruleDescription(app: string): string {
  return `managed-by berth ${app}`;
}
