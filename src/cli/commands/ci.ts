// Placeholder until the workflow generator lands (issue 5); replaced wholesale by that work.
import { BerthError } from '../../core/errors.js';
import type { Context } from '../context.js';

export const ciInitCommand = (
  _ctx: Context,
  _o: { force?: boolean; output: string },
): Promise<number> =>
  Promise.reject(new BerthError('USAGE', 'ci init is not part of this build yet'));
