/**
 * A pg.Client whose SCRAM-SHA-256 login derives the salted password once per process, not
 * once per connection.
 *
 * A fleet run opens one connection per tenant database (PostgreSQL cannot switch a session
 * to another database), and node-postgres runs the full SCRAM client side each time: PBKDF2
 * over 4096 rounds plus four HMACs through WebCrypto's asynchronous job queue. At a thousand
 * up-to-date tenants that was about a third of berth's own CPU. RFC 5802 (section 5.1) lets a
 * client cache SaltedPassword (and the keys derived from it) for a given salt and iteration
 * count; the server's salt and count for a role only change with its password, so the cache
 * is keyed by all three. Nothing is weakened: every login still proves the password to the
 * server with a fresh nonce, and node-postgres still checks the server's signature
 * (its _handleAuthSASLFinal, unchanged).
 *
 * A server berth started itself lets berth's socket logins through by the OS user (peer,
 * socket-auth.ts) and asks for no password; this client still matters for a server started
 * by an older berth (until its next start) and where berth writes no peer rule (a user with
 * no name), where the server asks for SCRAM.
 *
 * Only the common case is handled here: SCRAM-SHA-256 without channel binding (berth's own
 * connections go over the local server's Unix socket) and a printable-ASCII password, which
 * SASLprep leaves as it is (berth generates base64url passwords). Anything else goes through
 * node-postgres's own implementation. The hook is node-postgres's internal
 * `_handleAuthSASLContinue`; test/providers/local/scram-client.test.ts checks that the
 * proof computed here is the one node-postgres computes, so an upgrade that changes the
 * internals fails that test instead of a login.
 */
import { createHash, createHmac, pbkdf2 } from 'node:crypto';
import pg from 'pg';

/** node-postgres's SCRAM session, as its sasl.js keeps it (internal). */
export interface ScramSession {
  mechanism: string;
  clientNonce: string;
  message: string;
  response: string;
  serverSignature?: string;
  scramMaxIterations?: number;
}

interface ScramKeys {
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** node-postgres's default bound on the server's iteration count. */
const DEFAULT_MAX_ITERATIONS = 100_000;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

const cache = new Map<string, Promise<ScramKeys>>();

function keysFor(password: string, salt: string, iterations: number): Promise<ScramKeys> {
  const id = `${iterations}\u0000${salt}\u0000${password}`;
  let keys = cache.get(id);
  if (!keys) {
    keys = new Promise<Buffer>((resolve, reject) =>
      pbkdf2(password, Buffer.from(salt, 'base64'), iterations, 32, 'sha256', (error, key) =>
        error ? reject(error) : resolve(key),
      ),
    ).then((salted) => {
      const clientKey = hmac(salted, 'Client Key');
      return {
        clientKey,
        storedKey: createHash('sha256').update(clientKey).digest(),
        serverKey: hmac(salted, 'Server Key'),
      };
    });
    // A failed derivation is not kept: the next login tries again.
    keys.catch(() => cache.delete(id));
    cache.set(id, keys);
  }
  return keys;
}

/** How many salted passwords this process derived and keeps (one per server and role). */
export function scramCacheSize(): number {
  return cache.size;
}

function hmac(key: Buffer, message: string): Buffer {
  return createHmac('sha256', key).update(message).digest();
}

/**
 * The client-final message for a server-first message, or undefined when this fast path does
 * not apply (node-postgres then does it). Throws what node-postgres throws for a server-first
 * message that breaks the protocol.
 */
export async function scramClientFinal(
  session: ScramSession,
  password: unknown,
  serverData: string,
): Promise<{ response: string; serverSignature: string } | undefined> {
  // 'n,,': the client asked for no channel binding (its first message is still in `response`).
  if (
    session.message !== 'SASLInitialResponse' ||
    session.mechanism !== 'SCRAM-SHA-256' ||
    !session.response.startsWith('n,,')
  )
    return undefined;
  if (typeof password !== 'string' || !PRINTABLE_ASCII.test(password)) return undefined;
  const fields = new Map<string, string>();
  for (const part of serverData.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) fields.set(part.slice(0, 1), part.slice(2));
  }
  const nonce = fields.get('r');
  const salt = fields.get('s');
  const iteration = Number(fields.get('i'));
  // Anything unusual (a malformed message, a short nonce): node-postgres's own checks and
  // error messages apply.
  if (
    nonce === undefined ||
    salt === undefined ||
    !/^[1-9][0-9]*$/.test(fields.get('i') ?? '') ||
    !nonce.startsWith(session.clientNonce) ||
    nonce.length === session.clientNonce.length
  )
    return undefined;
  const max = session.scramMaxIterations ?? DEFAULT_MAX_ITERATIONS;
  if (max !== 0 && iteration > max) return undefined;

  const keys = await keysFor(password, salt, iteration);
  const withoutProof = `c=biws,r=${nonce}`;
  const authMessage = `n=*,r=${session.clientNonce},r=${nonce},s=${salt},i=${iteration},${withoutProof}`;
  const signature = createHmac('sha256', keys.storedKey).update(authMessage).digest();
  const proof = Buffer.alloc(signature.length);
  for (let i = 0; i < proof.length; i++) proof[i] = (keys.clientKey[i] ?? 0) ^ (signature[i] ?? 0);
  return {
    response: `${withoutProof},p=${proof.toString('base64')}`,
    serverSignature: hmac(keys.serverKey, authMessage).toString('base64'),
  };
}

/** node-postgres's client internals this class takes part in. */
interface ClientInternals {
  saslSession: ScramSession | null;
  password: unknown;
  connection: {
    sendSCRAMClientFinalMessage(response: string): void;
    emit(event: 'error', error: unknown): void;
  };
}

type SaslContinue = (this: pg.Client, message: { data: string }) => Promise<void>;
const pgContinue = (pg.Client.prototype as unknown as { _handleAuthSASLContinue: SaslContinue })
  ._handleAuthSASLContinue;

/** pg.Client with the cached SCRAM derivation; a drop-in for berth's own connections. */
export class ScramCachingClient extends pg.Client {
  // node-postgres calls this when the server's first SCRAM message arrives.
  async _handleAuthSASLContinue(message: { data: string }): Promise<void> {
    const self = this as unknown as ClientInternals;
    const session = self.saslSession;
    let final: Awaited<ReturnType<typeof scramClientFinal>>;
    try {
      final = session ? await scramClientFinal(session, self.password, message.data) : undefined;
    } catch (error) {
      self.connection.emit('error', error);
      return;
    }
    if (!final || !session) return pgContinue.call(this, message);
    session.message = 'SASLResponse';
    session.serverSignature = final.serverSignature;
    session.response = final.response;
    self.connection.sendSCRAMClientFinalMessage(final.response);
  }
}
