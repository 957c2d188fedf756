/**
 * The cached SCRAM client-final message is byte for byte the one node-postgres computes for
 * the same exchange, and anything outside the fast path is left to node-postgres.
 */
import { createRequire } from 'node:module';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ScramCachingClient, scramClientFinal } from '../../../src/providers/local/scram-client.js';

// node-postgres's own SCRAM implementation (internal module), as the reference.
const sasl = createRequire(import.meta.url)('pg/lib/crypto/sasl.js') as {
  startSession(
    mechanisms: string[],
    stream?: unknown,
  ): {
    mechanism: string;
    clientNonce: string;
    response: string;
    message: string;
    serverSignature?: string;
  };
  continueSession(session: object, password: string, serverData: string): Promise<void>;
};

const SALT = Buffer.from('0123456789abcdef').toString('base64');

function exchange() {
  const session = sasl.startSession(['SCRAM-SHA-256']);
  const serverData = `r=${session.clientNonce}SERVERNONCE123,s=${SALT},i=4096`;
  return { session, serverData };
}

describe('scramClientFinal', () => {
  it('computes the proof and the server signature node-postgres computes', async () => {
    for (const password of ['s3cret-Pa55_word', 'another one']) {
      for (let i = 0; i < 2; i++) {
        const { session, serverData } = exchange();
        const ours = await scramClientFinal({ ...session }, password, serverData);
        await sasl.continueSession(session, password, serverData);
        expect(ours).toEqual({
          response: session.response,
          serverSignature: session.serverSignature,
        });
      }
    }
  });

  it('leaves non-ASCII passwords, channel binding and odd messages to node-postgres', async () => {
    const { session, serverData } = exchange();
    expect(await scramClientFinal({ ...session }, 'pässword', serverData)).toBeUndefined();
    expect(
      await scramClientFinal(
        { ...session, response: `y${session.response.slice(1)}` },
        'pw',
        serverData,
      ),
    ).toBeUndefined();
    expect(
      await scramClientFinal({ ...session, mechanism: 'SCRAM-SHA-256-PLUS' }, 'pw', serverData),
    ).toBeUndefined();
    // A nonce that does not extend the client's, a missing salt, a bad count, too many rounds.
    for (const bad of [
      `r=other${session.clientNonce},s=${SALT},i=4096`,
      `r=${session.clientNonce},s=${SALT},i=4096`,
      `r=${session.clientNonce}x,i=4096`,
      `r=${session.clientNonce}x,s=${SALT},i=0`,
      `r=${session.clientNonce}x,s=${SALT},i=4096x`,
      `r=${session.clientNonce}x,s=${SALT},i=1000000`,
    ])
      expect(await scramClientFinal({ ...session }, 'pw', bad), bad).toBeUndefined();
  });

  it('hooks the method node-postgres calls for the server-first message', () => {
    expect(
      typeof (pg.Client.prototype as unknown as Record<string, unknown>)._handleAuthSASLContinue,
    ).toBe('function');
    expect(Object.getOwnPropertyNames(ScramCachingClient.prototype)).toContain(
      '_handleAuthSASLContinue',
    );
  });
});
