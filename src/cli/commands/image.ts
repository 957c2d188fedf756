// Placeholder until the image work lands (issue 5); replaced wholesale by that work.
import { BerthError } from '../../core/errors.js';
import type { Context } from '../context.js';

const todo = (): Promise<number> =>
  Promise.reject(new BerthError('USAGE', 'image builds are not part of this build yet'));
export const buildCommand = (_ctx: Context, _o: { target: 'development' | 'production' | 'all' }) =>
  todo();
export const pushCommand = (_ctx: Context, _o: { tag?: string }) => todo();
