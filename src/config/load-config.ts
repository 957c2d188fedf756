/**
 * Reads berth.yaml: YAML (with line numbers) → schema (zod, defaults) → semantic rules.
 * Every problem found is reported at once, each with its field path and line.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  LineCounter,
  parseDocument,
  isMap,
  isNode,
  isScalar,
  isSeq,
  type Document,
  type YAMLError,
} from 'yaml';
import type { z } from 'zod';
import { BerthError, errorMessage, isBerthError } from '../core/errors.js';
import { configSchema, type Config } from './schema.js';
import { semanticIssues, awsIssues, type ConfigIssue } from './rules.js';

export const DEFAULT_CONFIG_FILE = 'berth.yaml';

/**
 * A berth.yaml is a few kilobytes; anything past this is a mistake (a log, a dump, a
 * generated file) and is refused before it is read into memory.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * How many alias expansions a config may make. Anchors are handy for sharing a tag map,
 * but a "billion laughs" document expands a few lines into gigabytes: it is refused.
 */
export const MAX_ALIAS_COUNT = 100;

/** YAML errors reported; the rest follow from the first ones. */
const MAX_YAML_ERRORS = 10;

/** Key paths deeper than this are cut in messages (berth's own fields are 4 deep at most). */
const MAX_KEY_DEPTH = 8;

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file read. */
  file: string;
  /** Directory every relative path in the config is resolved against. */
  dir: string;
  /** The line of a dotted field path (or of its nearest parent that exists) in `file`. */
  lineOf?: (fieldPath: string) => number | undefined;
}

export async function loadConfig(
  file = DEFAULT_CONFIG_FILE,
  cwd = process.cwd(),
): Promise<LoadedConfig> {
  const absolute = path.resolve(cwd, file);
  let text: string;
  try {
    const info = await stat(absolute);
    if (info.isDirectory()) {
      throw new BerthError('CONFIG_INVALID', `${absolute} is a directory, not a config file`, {
        hint: 'pass --config PATH to the berth.yaml file itself',
      });
    }
    if (info.size > MAX_CONFIG_BYTES) throw tooLarge(absolute, info.size);
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    if (isBerthError(error)) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BerthError('CONFIG_NOT_FOUND', `no config file at ${absolute}`, {
        hint: 'run `berth init` to write a starter berth.yaml, or pass --config PATH',
      });
    }
    throw new BerthError('CONFIG_INVALID', `cannot read ${absolute}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const { config, lineOf } = parseConfigDocument(text, absolute);
  return { config, file: absolute, dir: path.dirname(absolute), lineOf };
}

/** Parses and validates config text; `source` names the file in messages. */
export function parseConfig(text: string, source = DEFAULT_CONFIG_FILE): Config {
  return parseConfigDocument(text, source).config;
}

/** parseConfig, plus the line lookup later checks (paths, aws fields) use in their messages. */
export function parseConfigDocument(
  text: string,
  source = DEFAULT_CONFIG_FILE,
): { config: Config; lineOf: (fieldPath: string) => number | undefined } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) throw tooLarge(source, bytes);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // One error per line, and the first few only: the parser's follow-on errors add noise
    // (a hostile file can produce thousands).
    const issues = doc.errors
      .slice(0, MAX_YAML_ERRORS)
      .map((e) => yamlIssue(doc, lineCounter, text, e));
    throw invalid(
      source,
      issues.filter((issue, i) => issues.findIndex((other) => other.line === issue.line) === i),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    // yaml throws a ReferenceError for an alias bomb (and for an alias to a missing anchor).
    const message = /excessive alias/i.test(errorMessage(error))
      ? `the aliases (*name) expand past ${MAX_ALIAS_COUNT} nodes; write the values out, or share fewer anchors`
      : errorMessage(error);
    throw invalid(source, [{ path: '(yaml)', message }]);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidConfig(source, [
      { path: '(root)', message: 'must be a mapping of settings (see `berth init`)' },
    ]);
  }
  const lineOf = (p: readonly PropertyKey[]): number | undefined => {
    // The line of the deepest key on the path that exists (a missing field: its parent's).
    const offset = keyOffset(doc.contents, p);
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  const lineOfPath = (fieldPath: string) => lineOf(splitPath(fieldPath));

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw invalidConfig(source, zodIssues(parsed.error, lineOf, raw));

  const semantic = semanticIssues(parsed.data).map((issue) => ({
    ...issue,
    line: lineOfPath(issue.path),
  }));
  if (semantic.length > 0) throw invalid(source, semantic);
  return { config: parsed.data, lineOf: lineOfPath };
}

/** Where the deepest existing key (or list element) of a field path starts. */
function keyOffset(node: unknown, fieldPath: readonly PropertyKey[]): number | undefined {
  let current = node;
  let offset = isNode(node) && node.range ? node.range[0] : undefined;
  for (const step of fieldPath) {
    if (isMap(current)) {
      const pair = current.items.find(
        (item) => isScalar(item.key) && String(item.key.value) === String(step),
      );
      if (!pair || !isNode(pair.key) || !pair.key.range) break;
      offset = pair.key.range[0];
      current = pair.value;
    } else if (isSeq(current) && typeof step === 'number') {
      const item = current.items[step];
      if (!isNode(item) || !item.range) break;
      offset = item.range[0];
      current = item;
    } else break;
  }
  return offset;
}

/** `database.tenants.2` → ['database', 'tenants', 2]: sequence indexes are numbers in yaml. */
function splitPath(fieldPath: string): PropertyKey[] {
  return fieldPath.split('.').map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function tooLarge(source: string, bytes: number): BerthError {
  return new BerthError(
    'CONFIG_INVALID',
    `${source} is ${bytes} bytes; a berth config is at most ${MAX_CONFIG_BYTES} bytes (1 MiB)`,
    {
      hint: 'point --config at berth.yaml itself; move long tenant lists to database.tenants.file',
      details: { issues: [{ path: '(file)', message: `larger than ${MAX_CONFIG_BYTES} bytes` }] },
    },
  );
}

/** A YAML error with its line, column and the key it sits under. */
function yamlIssue(
  doc: Document,
  lineCounter: LineCounter,
  text: string,
  error: YAMLError,
): ConfigIssue {
  let offset = error.pos[0];
  const at = keyPathAt(doc.contents, offset);
  let message = error.message.split('\n')[0] ?? error.message;
  if (error.code === 'DUPLICATE_KEY') {
    const key = /^[^\s:#,{}[\]]+/.exec(text.slice(offset))?.[0];
    message = `duplicate key${key ? ` "${key}"` : ''}: each setting may appear once in a mapping`;
  } else if (error.code === 'TAB_AS_INDENT') {
    message = 'a tab is used for indentation; YAML indents with spaces only';
  } else if (/call stack/i.test(message)) {
    message = 'nested too deeply to read; a berth config is a few levels deep';
  } else if (error.code === 'MISSING_CHAR' && at.valueStart !== undefined) {
    // An unclosed quote or bracket is noticed at the end of the file; point at its start.
    offset = at.valueStart;
  }
  const { line, col } = lineCounter.linePos(offset);
  const keyPath =
    at.path.length > MAX_KEY_DEPTH
      ? `${at.path.slice(0, MAX_KEY_DEPTH).join('.')}.…`
      : at.path.join('.');
  return {
    path: keyPath || '(yaml)',
    message,
    line,
    column: col,
  };
}

/**
 * The key path of the mapping entry an offset falls in: the last key starting at or before
 * it, descending while the offset is inside that entry's value. `valueStart` is where the
 * innermost value found begins.
 */
function keyPathAt(
  node: unknown,
  offset: number,
): { path: (string | number)[]; valueStart?: number } {
  let value: unknown;
  let step: string | number;
  if (isMap(node)) {
    let found: { key: string | number; value: unknown } | undefined;
    for (const pair of node.items) {
      const key = pair.key;
      const start = isNode(key) && key.range ? key.range[0] : undefined;
      if (start === undefined || start > offset) continue;
      const name = isScalar(key) ? key.value : key;
      found = { key: typeof name === 'number' ? name : String(name), value: pair.value };
    }
    if (!found) return { path: [] };
    ({ key: step, value } = found);
  } else if (isSeq(node)) {
    const index = node.items.findIndex(
      (item) => isNode(item) && item.range && item.range[0] <= offset && offset < item.range[1],
    );
    if (index < 0) return { path: [] };
    step = index;
    value = node.items[index];
  } else {
    return { path: [] };
  }
  const range = isNode(value) ? value.range : undefined;
  if (!range) return { path: [step] };
  const inner = range[0] <= offset && offset <= range[2] ? keyPathAt(value, offset) : { path: [] };
  return {
    path: [step, ...inner.path],
    valueStart: inner.path.length > 0 ? inner.valueStart : range[0],
  };
}

/** Checks the fields the aws provider needs, before any AWS call is made. */
export function assertAwsReady(loaded: LoadedConfig): void {
  const issues = awsIssues(loaded.config).map((i) => ({ ...i, line: loaded.lineOf?.(i.path) }));
  if (issues.length > 0) throw invalid(loaded.file, issues, 'the aws provider needs more settings');
}

/** A value as a message quotes it: JSON-escaped, long ones cut. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}…` : value);
}

/** The value at a zod issue's path in the parsed YAML. */
function valueAt(raw: unknown, fieldPath: readonly PropertyKey[]): unknown {
  let value = raw;
  for (const step of fieldPath) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[step];
  }
  return value;
}

function zodIssues(
  error: z.ZodError,
  lineOf: (p: readonly PropertyKey[]) => number | undefined,
  raw: unknown,
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
    // `"Bad-Name" must be a lowercase PostgreSQL identifier…`: which value, not only where.
    const value = valueAt(raw, issue.path);
    if (issue.code === 'invalid_format' && typeof value === 'string' && message.startsWith('must '))
      message = `${quoted(value)} ${message}`;
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
export const invalidConfig = (...args: Parameters<typeof invalid>): BerthError => invalid(...args);

export function invalid(
  source: string,
  issues: ConfigIssue[],
  headline = 'invalid config',
): BerthError {
  const lines = issues.map((i) => `  ${i.path}${where(i)}: ${i.message}`);
  return new BerthError('CONFIG_INVALID', `${headline} in ${source}:\n${lines.join('\n')}`, {
    hint: 'fix the fields above; nothing was changed',
    details: { file: source, issues },
  });
}

function where(issue: ConfigIssue): string {
  if (!issue.line) return '';
  return issue.column ? ` (line ${issue.line}, column ${issue.column})` : ` (line ${issue.line})`;
}
