/**
 * The `region` of a shared-config profile (`~/.aws/config`, or AWS_CONFIG_FILE), read as the
 * SDK reads it: `[default]` or `[profile NAME]` sections, `key = value` lines, `#`/`;`
 * comments. Read synchronously: it is one small file, read once per command.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export function profileRegion(profile: string, env: NodeJS.ProcessEnv): string | undefined {
  const home = env.HOME ?? env.USERPROFILE;
  const file = env.AWS_CONFIG_FILE ?? (home ? path.join(home, '.aws', 'config') : undefined);
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // no shared config: nothing to read
  }
  return parseProfileRegion(text, profile);
}

export function parseProfileRegion(text: string, profile: string): string | undefined {
  const wanted = profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`];
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s[#;].*$/, '').trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (section) {
      inSection = wanted.includes((section[1] ?? '').replace(/\s+/g, ' '));
      continue;
    }
    if (!inSection) continue;
    const pair = /^region\s*=\s*(\S+)$/.exec(line);
    if (pair) return pair[1];
  }
  return undefined;
}
