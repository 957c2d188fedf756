/**
 * Confirmation for destructive commands: the user types the stack name, or passes --yes.
 * Without a terminal there is nobody to ask, so berth refuses rather than guessing.
 */
import readline from 'node:readline/promises';
import { BerthError } from '../core/errors.js';

export async function confirmByTyping(what: string, expected: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new BerthError(
      'CONFIRMATION_REQUIRED',
      `${what} needs confirmation and there is no terminal to ask`,
      {
        hint: 'pass --yes to confirm non-interactively',
      },
    );
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${what}\nType the stack name (${expected}) to confirm: `);
    if (answer.trim() !== expected)
      throw new BerthError('ABORTED', 'confirmation did not match; nothing was changed');
  } finally {
    rl.close();
  }
}
