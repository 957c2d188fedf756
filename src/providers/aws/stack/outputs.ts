/**
 * After `up`: `<local.dataDir>/outputs.env` (the seed's aws-resources.env, sourceable by a
 * shell) and `outputs.json`, both written atomically. Nothing in berth reads them back —
 * every command finds the resources by name and tags — they are for people and scripts.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../../core/atomic-write.js';
import { OUTPUT_KEYS, type StackOutputs } from './types.js';

export const OUTPUTS_ENV = 'outputs.env';
export const OUTPUTS_JSON = 'outputs.json';

export interface OutputsFile {
  version: 1;
  stack: string;
  writtenAt: string;
  outputs: StackOutputs;
}

export interface OutputsPaths {
  env: string;
  json: string;
}

export function outputsPaths(dir: string): OutputsPaths {
  return { env: path.join(dir, OUTPUTS_ENV), json: path.join(dir, OUTPUTS_JSON) };
}

/** Values are quoted for the shell when they need it (log group names may contain `#`). */
export function shellValue(value: string): string {
  return /^[A-Za-z0-9_./:@,+=-]*$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function sortedOutputs(outputs: StackOutputs): StackOutputs {
  const out: StackOutputs = {};
  for (const key of OUTPUT_KEYS) if (outputs[key] !== undefined) out[key] = outputs[key];
  return out;
}

export function outputsEnvText(stack: string, outputs: StackOutputs, writtenAt: string): string {
  const lines = [
    `# berth outputs for stack ${stack}, written by \`berth up\` at ${writtenAt}.`,
    '# Informational: berth itself never reads this file.',
  ];
  for (const [key, value] of Object.entries(sortedOutputs(outputs)))
    lines.push(`${key}=${shellValue(value)}`);
  return `${lines.join('\n')}\n`;
}

export async function writeOutputs(
  dir: string,
  stack: string,
  outputs: StackOutputs,
  now: Date,
): Promise<OutputsPaths> {
  const paths = outputsPaths(dir);
  const writtenAt = now.toISOString();
  const file: OutputsFile = { version: 1, stack, writtenAt, outputs: sortedOutputs(outputs) };
  await writeFileAtomic(paths.env, outputsEnvText(stack, outputs, writtenAt));
  await writeFileAtomic(paths.json, `${JSON.stringify(file, null, 2)}\n`);
  return paths;
}

/** After `down` the outputs describe nothing: remove them. */
export async function removeOutputs(dir: string): Promise<OutputsPaths> {
  const paths = outputsPaths(dir);
  await Promise.all([rm(paths.env, { force: true }), rm(paths.json, { force: true })]);
  return paths;
}
