/**
 * The AWS SDK for JavaScript v3 warns, once per process, that its releases after the first
 * week of January 2027 need Node 22 (`process.emitWarning("NodeVersionSupportWarning: ...")`
 * in @aws-sdk/core, called from every client's constructor). Node prints process warnings on
 * stderr, in the middle of berth's output; berth supports Node 20 on purpose and says so in
 * package.json, so this one warning is dropped here, in one place, before any client exists.
 * Every other warning still goes through.
 */
const MARKER = 'NodeVersionSupportWarning';
const INSTALLED = Symbol.for('berth.aws.nodeVersionWarningFilter');

export function isSdkNodeVersionWarning(warning: unknown, type?: unknown): boolean {
  if (type === MARKER) return true;
  if (typeof warning === 'string')
    return warning.startsWith(MARKER) || warning.includes(`${MARKER}:`);
  if (warning instanceof Error)
    return warning.name === MARKER || warning.message.startsWith(MARKER);
  return false;
}

/** Idempotent. Also sets the SDK's own opt-out variable unless the user set it. */
export function silenceSdkNodeVersionWarning(proc: NodeJS.Process = process): void {
  proc.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const holder = proc as NodeJS.Process & { [INSTALLED]?: true };
  if (holder[INSTALLED]) return;
  holder[INSTALLED] = true;
  const original = proc.emitWarning.bind(proc) as (...args: unknown[]) => void;
  const filtered = (warning: string | Error, ...rest: unknown[]): void => {
    const options = rest[0];
    const type =
      typeof options === 'object' && options !== null
        ? (options as { type?: unknown }).type
        : options;
    if (isSdkNodeVersionWarning(warning, type)) return;
    original(warning, ...rest);
  };
  proc.emitWarning = filtered;
}
