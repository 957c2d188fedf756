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
import { closeMatches } from '../core/close-matches.js';
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
  /** Where a dotted field path is in `file`: its line, or (not in the file) where it would go. */
  locate?: (fieldPath: string) => FieldLocation;
}

/** A field's line, or for a field the file leaves out, the section it would go under. */
export type FieldLocation = Pick<ConfigIssue, 'line' | 'unset'>;

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
  const { config, locate } = parseConfigDocument(text, absolute);
  return { config, file: absolute, dir: path.dirname(absolute), locate };
}

/** Parses and validates config text; `source` names the file in messages. */
export function parseConfig(text: string, source = DEFAULT_CONFIG_FILE): Config {
  return parseConfigDocument(text, source).config;
}

/** parseConfig, plus the line lookup later checks (paths, aws fields) use in their messages. */
export function parseConfigDocument(
  text: string,
  source = DEFAULT_CONFIG_FILE,
): { config: Config; locate: (fieldPath: string) => FieldLocation } {
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
  const locate = (p: readonly PropertyKey[]): FieldLocation => {
    const found = deepestKey(doc.contents, p);
    const line = found.offset === undefined ? undefined : lineCounter.linePos(found.offset).line;
    if (found.depth === p.length) return line === undefined ? {} : { line };
    // Not in the file: the line of the key above it would be another field's (a starter without
    // network: had network.subnets "at line 7", `version: 1`). Say where it would go instead.
    if (found.depth === 0) return { unset: {} };
    const section = p.slice(0, found.depth).join('.');
    return { unset: line === undefined ? { section } : { section, line } };
  };
  const locatePath = (fieldPath: string) => locate(splitPath(fieldPath));

  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw invalidConfig(source, zodIssues(parsed.error, locate, raw));

  const semantic = semanticIssues(parsed.data).map((issue) => ({
    ...issue,
    ...locatePath(issue.path),
  }));
  if (semantic.length > 0) throw invalid(source, semantic);
  return { config: parsed.data, locate: locatePath };
}

/**
 * How many steps of a field path are in the document, and where the last of them (a key or a
 * list element) starts; for the empty path, the document's own start.
 */
function deepestKey(
  node: unknown,
  fieldPath: readonly PropertyKey[],
): { depth: number; offset: number | undefined } {
  let current = node;
  let offset = isNode(node) && node.range ? node.range[0] : undefined;
  let depth = 0;
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
    depth++;
  }
  return { depth, offset };
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
  const issues = awsIssues(loaded.config).map((i) => ({ ...i, ...loaded.locate?.(i.path) }));
  if (issues.length === 0) return;
  // A config written for the local provider reaches here through the infra commands (plan,
  // up, down, show), which always talk to AWS: the hint says so, and where local state is shown.
  throw invalid(
    loaded.file,
    issues,
    'the aws provider needs more settings',
    "fill in the fields above; nothing was changed. plan, up, down, show and iam work on the AWS stack only (AWS or --endpoint-url), whatever berth.yaml's provider; for the local server and databases, run `berth status`",
  );
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

/** What database.tenants may be; the union's own message ("Invalid input") says none of it. */
const TENANTS_FORMS =
  'must be a list of database names, { file: PATH } or { query: SQL, database: NAME }';

/** What one task.secrets entry may be (the union's own message says none of it either). */
const TASK_SECRET_FORMS =
  'must be a Secrets Manager secret (its name or ARN), { secret, key, kmsKey } or { parameter, kmsKey } (a Parameter Store parameter)';

/** `task.secrets.NAME`: one entry of task.secrets. */
const isTaskSecretPath = (p: readonly PropertyKey[]): boolean =>
  p.length === 3 && p[0] === 'task' && p[1] === 'secrets';

function zodIssues(
  error: z.ZodError,
  locate: (p: readonly PropertyKey[]) => FieldLocation,
  raw: unknown,
): ConfigIssue[] {
  const at = (p: readonly PropertyKey[], message: string): ConfigIssue => ({
    path: p.length ? p.join('.') : '(root)',
    message,
    ...locate(p),
  });

  /** One zod issue as config issues; `base` is where a union option's issues are rooted. */
  const convert = (issue: z.core.$ZodIssue, base: readonly PropertyKey[] = []): ConfigIssue[] => {
    const p = [...base, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = settingsAt(configSchema, p);
      // A key of another form of the same field (tenants `{ file: x, database: y }`).
      const otherForm =
        p.join('.') === 'database.tenants'
          ? `does not go with the other settings here: database.tenants ${TENANTS_FORMS}`
          : 'does not go with the other settings here';
      const parameterKey = (key: string) =>
        key === 'key' && isTaskSecretPath(p) && hasKey(valueAt(raw, p), 'parameter');
      return issue.keys.map((key) =>
        at(
          [...p, key],
          parameterKey(key)
            ? 'a Parameter Store parameter has no JSON key: the variable gets its whole value (key goes with secret)'
            : known.includes(key)
              ? otherForm
              : unknownSetting(key, known),
        ),
      );
    }
    if (issue.code === 'invalid_union' && p.join('.') === 'database.tenants') {
      return tenantsIssues(issue.errors, p);
    }
    if (issue.code === 'invalid_union' && isTaskSecretPath(p)) {
      return taskSecretIssues(issue.errors, p);
    }
    let message = issue.message;
    if (issue.code === 'invalid_type' && /received undefined/.test(message)) message = 'required';
    // `"Bad-Name" must be a lowercase PostgreSQL identifier…`: which value, not only where.
    const value = valueAt(raw, p);
    if (issue.code === 'invalid_format' && typeof value === 'string' && message.startsWith('must '))
      message = `${quoted(value)} ${message}`;
    return [at(p, message)];
  };

  /**
   * zod reports a value that fits none of the three forms by each form's complaint (the
   * list's first: "expected array, received object"). The value's own shape says which form
   * was meant: a list, or a mapping with `file` or `query`; for anything else, the forms.
   */
  const tenantsIssues = (
    options: z.core.$ZodIssue[][],
    p: readonly PropertyKey[],
  ): ConfigIssue[] => {
    const [asList = [], asFile = [], asQuery = []] = options;
    const value = valueAt(raw, p);
    if (Array.isArray(value)) return asList.flatMap((i) => convert(i, p));
    if (value === null || typeof value !== 'object') return [at(p, TENANTS_FORMS)];
    const keys = Object.keys(value);
    const hasFile = keys.includes('file');
    const hasQuery = keys.includes('query');
    if (hasFile && hasQuery) return [at(p, `${TENANTS_FORMS}; set file or query, not both`)];
    if (hasFile) return asFile.flatMap((i) => convert(i, p));
    if (hasQuery) return asQuery.flatMap((i) => convert(i, p));
    const known = settingsAt(configSchema, p);
    const guesses = keys.flatMap((key) => {
      if (known.includes(key)) return []; // `{ database: x }`: a query's field, without the query
      const guess = didYouMean(key, known);
      return guess ? [`${key}: ${guess}`] : [];
    });
    return [at(p, [TENANTS_FORMS, ...guesses].join('; '))];
  };

  /**
   * One task.secrets entry that fits none of its forms: a mapping with `secret` or with
   * `parameter` meant that form (its own complaints); both, or neither, the forms.
   */
  const taskSecretIssues = (
    options: z.core.$ZodIssue[][],
    p: readonly PropertyKey[],
  ): ConfigIssue[] => {
    const [, asSecret = [], asParameter = []] = options;
    const value = valueAt(raw, p);
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return [at(p, TASK_SECRET_FORMS)];
    const hasSecret = hasKey(value, 'secret');
    const hasParameter = hasKey(value, 'parameter');
    if (hasSecret && hasParameter)
      return [at(p, `${TASK_SECRET_FORMS}; set secret or parameter, not both`)];
    if (hasSecret) return asSecret.flatMap((i) => convert(i, p));
    if (hasParameter) return asParameter.flatMap((i) => convert(i, p));
    return [at(p, `${TASK_SECRET_FORMS}; set secret or parameter`)];
  };

  return error.issues.flatMap((issue) => convert(issue));
}

function hasKey(value: unknown, key: string): boolean {
  return value !== null && typeof value === 'object' && key in value;
}

/** `unknown setting; did you mean timeoutSeconds?` when one of the allowed keys is close. */
function unknownSetting(key: string, known: readonly string[]): string {
  const guess = didYouMean(key, known);
  return guess
    ? `unknown setting; ${guess}`
    : 'unknown setting (check the spelling; see the config reference in the README)';
}

/** `did you mean file?` for a key close to one the schema allows there; else undefined. */
function didYouMean(key: string, known: readonly string[]): string | undefined {
  const close = closeMatches(key, known, { closestOnly: true });
  return close.length ? `did you mean ${orList(close)}?` : undefined;
}

/** `a`, `a or b`, `a, b or c`. */
function orList(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items.at(-1)}` : items.join('');
}

/** The parts of a zod schema's definition the walk below reads. */
interface SchemaDef {
  type: string;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  options?: readonly z.core.$ZodType[];
}

const defOf = (schema: z.core.$ZodType): SchemaDef => schema._zod.def;

/**
 * The keys the schema allows in the mapping at a field path (the candidates for "did you
 * mean"): through defaults, optionals, lists and records; at a union, every mapping option's
 * keys.
 */
function settingsAt(schema: z.core.$ZodType, fieldPath: readonly PropertyKey[]): string[] {
  let level: z.core.$ZodType[] = [schema];
  for (const step of [...fieldPath, undefined]) {
    const objects: SchemaDef[] = [];
    const next: z.core.$ZodType[] = [];
    const visit = (s: z.core.$ZodType): void => {
      const def = defOf(s);
      if (def.innerType) visit(def.innerType);
      else if (def.type === 'pipe' && def.in) visit(def.in);
      else if (def.type === 'union') def.options?.forEach(visit);
      else if (def.type === 'object') objects.push(def);
      else if (def.type === 'array' && def.element && typeof step === 'number')
        next.push(def.element);
      else if (def.type === 'record' && def.valueType && step !== undefined)
        next.push(def.valueType);
    };
    level.forEach(visit);
    if (step === undefined)
      return [...new Set(objects.flatMap((def) => Object.keys(def.shape ?? {})))];
    for (const def of objects) {
      const field = def.shape?.[String(step)];
      if (field) next.push(field);
    }
    level = next;
  }
  return [];
}

/** The CONFIG_INVALID error listing every issue (also for checks made after loading). */
export const invalidConfig = (...args: Parameters<typeof invalid>): BerthError => invalid(...args);

export function invalid(
  source: string,
  issues: ConfigIssue[],
  headline = 'invalid config',
  hint = 'fix the fields above; nothing was changed',
): BerthError {
  const lines = issues.map((i) => `  ${i.path}${where(i)}: ${i.message}`);
  return new BerthError('CONFIG_INVALID', `${headline} in ${source}:\n${lines.join('\n')}`, {
    hint,
    details: { file: source, issues },
  });
}

function where(issue: ConfigIssue): string {
  if (issue.unset) {
    const { section, line } = issue.unset;
    const rest = section ? issue.path.slice(section.length + 1) : issue.path;
    const key = rest.split('.')[0] ?? rest;
    if (section) return ` (not set; add ${key}: under ${section}${line ? `, line ${line}` : ''})`;
    return rest.includes('.')
      ? ` (not set; add ${/^[aeiou]/i.test(key) ? 'an' : 'a'} ${key}: section)`
      : ' (not set; add it at the top level)';
  }
  if (!issue.line) return '';
  return issue.column ? ` (line ${issue.line}, column ${issue.column})` : ` (line ${issue.line})`;
}
