// Placeholder until the AWS provider lands (issue 3); replaced wholesale by that work.
import { BerthError } from '../../core/errors.js';
import type { Context } from '../context.js';

const todo = (): Promise<number> =>
  Promise.reject(new BerthError('USAGE', 'the aws provider is not part of this build yet'));
export const planCommand = (_ctx: Context, _o: { detailedExitcode?: boolean }) => todo();
export const upCommand = (_ctx: Context, _o: { adopt?: boolean }) => todo();
export const downCommand = (_ctx: Context, _o: { yes?: boolean }) => todo();
export const showCommand = (_ctx: Context) => todo();
export const awsStatusCommand = (_ctx: Context) => todo();
export const iamCiPolicyCommand = (_ctx: Context) => todo();
export const iamGithubOidcCommand = (
  _ctx: Context,
  _o: { repo: string; branch?: string; environment?: string },
) => todo();
