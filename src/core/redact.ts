/**
 * The one place secrets are scrubbed. Every string that leaves berth for a human or a file
 * (log lines shown in results, error messages, JSON output) passes through a Redactor that
 * knows the secret values of this run, plus generic patterns for connection strings.
 *
 * A secret is masked as written and in the encodings a task is likely to print it in:
 * URL-encoded (percent-encoding, either case, and form encoding), JSON-escaped, hex (either
 * case) and base64 (standard and URL-safe, with or without padding), including inside a
 * longer base64 value such as `user:password` in a Basic auth header or a Docker auth entry.
 * Other transformations (hashes, other encodings, a secret split across lines) are not.
 */
const URL_PASSWORD = /(postgres(?:ql)?:\/\/[^:/\s]+:)([^@\s]+)(@)/gi;
const ASSIGNMENT =
  /\b(PGPASSWORD|DATABASE_PASSWORD|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|password)("?\s*[=:]\s*)("?)([^\s"',}]+)/gi;

export const MASK = '***';

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Longest first, so a longer form is masked whole before a shorter one inside it. */
  private ordered: string[] | undefined;

  /** Registers a value that must never be printed, with its encodings. Short values would mask too much. */
  add(secret: string | undefined): void {
    if (!secret || secret.length < 4) return;
    for (const form of encodedForms(secret)) this.secrets.add(form);
    this.ordered = undefined;
  }

  redact(text: string): string {
    let out = text.replace(URL_PASSWORD, `$1${MASK}$3`).replace(ASSIGNMENT, `$1$2$3${MASK}`);
    this.ordered ??= [...this.secrets].sort((a, b) => b.length - a.length);
    for (const secret of this.ordered) if (out.includes(secret)) out = out.split(secret).join(MASK);
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

/**
 * Shortest base64 run masked when the secret sits inside a longer base64 value: shorter runs
 * would mask unrelated base64 text by chance.
 */
const MIN_EMBEDDED_BASE64 = 8;

/** The secret as written and as the encodings a program commonly prints it in. */
export function encodedForms(secret: string): Set<string> {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = new Set<string>([secret]);
  const uri = encodeURIComponent(secret);
  forms.add(uri);
  forms.add(uri.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase()));
  forms.add(new URLSearchParams({ s: secret }).toString().slice(2));
  forms.add(JSON.stringify(secret).slice(1, -1));
  const hex = bytes.toString('hex');
  forms.add(hex);
  forms.add(hex.toUpperCase());
  const base64 = bytes.toString('base64');
  forms.add(base64);
  forms.add(base64.replace(/=+$/, ''));
  forms.add(bytes.toString('base64url'));
  // Inside a longer value (user:password), the secret starts 0, 1 or 2 bytes into a 3-byte
  // group; the characters made only of the secret's bits are the same whatever surrounds it.
  for (let shift = 0; shift < 3; shift++) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const core = encoded.slice(
      Math.ceil((8 * shift) / 6),
      Math.floor((8 * (shift + bytes.length)) / 6),
    );
    if (core.length >= MIN_EMBEDDED_BASE64) {
      forms.add(core);
      forms.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
    }
  }
  return forms;
}

/**
 * A variable name that says it holds a credential (`PGPASSWORD`, `DB_PASSWORD`, `SECRET_KEY`,
 * `API_TOKEN`, `STRIPE_API_KEY`, `AWS_SECRET_ACCESS_KEY`, `GCP_CREDENTIALS`): its last
 * underscore-separated words, so `PASSWORD_MIN_LENGTH`, `TOKEN_TTL` or `BYPASS_CACHE` are not.
 */
const SECRET_NAME =
  /(^|_)(PG)?(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|SECRET_?KEY|SECRET_ACCESS_KEY|CREDENTIALS?)$/i;

export function secretLikeName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A URL with a password in it (`postgres://user:pw@host/db`, `redis://:pw@host`). */
export function credentialInUrl(value: string): boolean {
  return /[a-z][a-z0-9+.-]*:\/\/[^/@\s]*:[^/@\s]+@/i.test(value);
}

/** Process-wide redactor: providers register secrets as they load them. */
export const redactor = new Redactor();
