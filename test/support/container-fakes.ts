/**
 * A scripted container CLI for unit tests: each call is recorded, and answered by the first
 * rule whose matcher accepts its argv (unmatched calls exit 0 with no output).
 */
import type { Exec, ExecOptions, ExecResult } from '../../src/core/exec.js';

export interface Call {
  program: string;
  args: string[];
  options: ExecOptions;
}

export type Rule = [
  match: (args: string[]) => boolean,
  answer: Partial<ExecResult> | ((args: string[], options: ExecOptions) => Partial<ExecResult>),
];

export function fakeExec(rules: Rule[] = []): Exec & { calls: Call[] } {
  const calls: Call[] = [];
  const fn = (program: string, args: string[], options: ExecOptions = {}) => {
    calls.push({ program, args, options });
    const rule = rules.find(([match]) => match(args));
    const answer = rule ? (typeof rule[1] === 'function' ? rule[1](args, options) : rule[1]) : {};
    const result: ExecResult = { code: 0, stdout: '', stderr: '', ...answer };
    for (const line of result.stdout.split('\n').filter(Boolean)) options.onLine?.(line, 'stdout');
    for (const line of result.stderr.split('\n').filter(Boolean)) options.onLine?.(line, 'stderr');
    return Promise.resolve(result);
  };
  return Object.assign(fn, { calls });
}

/** `docker image inspect --format {{json .}}` output for an image. */
export function inspectJson(options: {
  id?: string;
  size: number;
  user?: string;
  healthcheck?: string[];
  repoDigests?: string[];
}): string {
  return JSON.stringify({
    Id: options.id ?? 'sha256:feed',
    Size: options.size,
    RepoDigests: options.repoDigests ?? [],
    Config: {
      User: options.user ?? '',
      WorkingDir: '/app',
      Healthcheck: options.healthcheck ? { Test: options.healthcheck } : null,
    },
  });
}

export const first = (name: string) => (args: string[]) => args[0] === name;
export const sub = (a: string, b: string) => (args: string[]) => args[0] === a && args[1] === b;
