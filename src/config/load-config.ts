/**
 * Reads berth.yaml: YAML (with line numbers) → schema (zod, defaults) → semantic rules.
 * Every problem found is reported at once, each with its field path and line.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { BerthError } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';
import { semanticIssues, awsIssues, type ConfigIssue } from './rules.js';

export const DEFAULT_CONFIG_FILE = 'berth.yaml';

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read. */
  file: string;
  /** Directory every relative path in the config is resolved against. */
  dir: string;
}

export async function loadConfig(
  file = DEFAULT_CONFIG_FILE,
  cwd = process.cwd(),
): Promise<LoadedConfig> {
  const absolute = path.resolve(cwd, file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BerthError('CONFIG_NOT_FOUND', `no config file at ${absolute}`, {
        hint: 'run `berth init` to write a starter berth.yaml, or pass --config PATH',
      });
    }
    throw new BerthError('CONFIG_INVALID', `cannot read ${absolute}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const config = parseConfig(text, absolute);
  return { config, file: absolute, dir: path.dirname(absolute) };
}

/** Parses and validates config text; `source` names the file in messages. */
export function parseConfig(text: string, source = DEFAULT_CONFIG_FILE): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues = doc.errors.map((e) => ({
      path: '(yaml)',
      message: e.message.split('\n')[0] ?? e.message,
      line: e.linePos?.[0]?.line,
    }));
    throw invalidConfig(source, issues);
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidConfig(source, [
      { path: '(root)', message: 'must be a mapping of settings (see `berth init`)' },
    ]);
  }
  const lineOf = (p: readonly PropertyKey[]): number | undefined => {
    // Walk up to the nearest node that exists (a missing field's parent).
    for (let n = p.length; n >= 0; n--) {
      const node = doc.getIn(p.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw invalidConfig(source, zodIssues(parsed.error, lineOf));

  const semantic = semanticIssues(parsed.data).map((issue) => ({
    ...issue,
    line: lineOf(issue.path.split('.')),
  }));
  if (semantic.length > 0) throw invalidConfig(source, semantic);
  return parsed.data;
}

/** Checks the fields the aws provider needs, before any AWS call is made. */
export function assertAwsReady(loaded: LoadedConfig): void {
  const issues = awsIssues(loaded.config);
  if (issues.length > 0)
    throw invalidConfig(loaded.file, issues, 'the aws provider needs more settings');
}

function zodIssues(
  error: z.ZodError,
  lineOf: (p: readonly PropertyKey[]) => number | undefined,
): ConfigIssue[] {
  return error.issues.flatMap((issue): ConfigIssue[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [...issue.path, key].join('.'),
        message: 'unknown setting (check the spelling; see the config reference in the README)',
        line: lineOf([...issue.path, key]),
      }));
    }
    const fieldPath = issue.path.length ? issue.path.join('.') : '(root)';
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'required';
    if (issue.code === 'invalid_union' && issue.path.join('.') === 'database.tenants') {
      message =
        'must be a list of database names, { file: PATH } or { query: SQL, database: NAME }';
      // Surface the inner reason for the list form: it names the bad element.
      const inner = issue.errors[0]?.[0];
      if (inner) {
        return [
          {
            path: [...issue.path, ...inner.path].join('.'),
            message: inner.message,
            line: lineOf([...issue.path, ...inner.path]),
          },
        ];
      }
    }
    return [{ path: fieldPath, message, line: lineOf(issue.path) }];
  });
}

/** The CONFIG_INVALID error listing every issue (also for checks made after loading). */
export function invalidConfig(
  source: string,
  issues: ConfigIssue[],
  headline = 'invalid config',
): BerthError {
  const lines = issues.map((i) => `  ${i.path}${i.line ? ` (line ${i.line})` : ''}: ${i.message}`);
  return new BerthError('CONFIG_INVALID', `${headline} in ${source}:\n${lines.join('\n')}`, {
    hint: 'fix the fields above; nothing was changed',
    details: { issues },
  });
}
