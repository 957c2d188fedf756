/**
 * Plain data shared by the AWS service interfaces. Nothing here depends on the AWS SDK:
 * domain code (../stack, ../tasks) sees only these shapes, the SDK adapters (./sdk) and the
 * in-memory fake (./fake) both produce them.
 */

/** Tags as a map; the adapters convert to each service's own list shape. */
export type Tags = Record<string, string>;

/** Where and as whom AWS calls go. Resolved once per command (see resolveAwsSettings). */
export interface AwsSettings {
  region: string;
  /** Shared-config profile; undefined leaves the SDK default chain (AWS_PROFILE, env, SSO, web identity...). */
  profile?: string;
  /** Every call goes here instead of AWS (an emulator). */
  endpoint?: string;
}
