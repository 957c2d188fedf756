/**
 * The one place secrets are scrubbed. Every string that leaves berth for a human or a file
 * (log lines shown in results, error messages, JSON output) passes through a Redactor that
 * knows the secret values of this run, plus generic patterns for connection strings.
 */
const URL_PASSWORD = /(postgres(?:ql)?:\/\/[^:/\s]+:)([^@\s]+)(@)/gi;
const ASSIGNMENT =
  /\b(PGPASSWORD|DATABASE_PASSWORD|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|password)("?\s*[=:]\s*)("?)([^\s"',}]+)/gi;

export const MASK = '***';

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a value that must never be printed. Short values would mask too much. */
  add(secret: string | undefined): void {
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  redact(text: string): string {
    let out = text.replace(URL_PASSWORD, `$1${MASK}$3`).replace(ASSIGNMENT, `$1$2$3${MASK}`);
    for (const secret of this.secrets) out = out.split(secret).join(MASK);
    return out;
  }

  /** Redacts every string inside a JSON-like value. */
  redactDeep<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v: unknown) => this.redactDeep(v)) as T;
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactDeep(v);
      return out as T;
    }
    return value;
  }
}

/** Process-wide redactor: providers register secrets as they load them. */
export const redactor = new Redactor();
