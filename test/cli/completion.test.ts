/**
 * `berth completion`: scripts generated from the parser. The bash script is run in a real
 * bash with the words a user would have typed; zsh reuses it; fish is checked line by line.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionScript } from '../../src/cli/completion.js';
import { buildProgram } from '../../src/cli/main.js';

const run = promisify(execFile);
let dir: string;
let bashFile: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'berth-completion-'));
  bashFile = path.join(dir, 'berth.bash');
  await writeFile(bashFile, completionScript(buildProgram(), 'bash'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What bash offers after `line` (the last word is the one being completed). */
async function complete(line: string): Promise<string[]> {
  const words = line.split(' ');
  const { stdout } = await run('bash', [
    '-c',
    'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _berth; printf "%s\\n" "${COMPREPLY[@]}"',
    'bash',
    bashFile,
    ...words,
  ]);
  return stdout.split('\n').filter(Boolean);
}

function allPaths(command: Command, prefix = ''): string[] {
  return command.commands.flatMap((c) => {
    const p = prefix ? `${prefix} ${c.name()}` : c.name();
    return [p, ...allPaths(c, p)];
  });
}

describe('bash completion', () => {
  it('is valid bash', async () => {
    await expect(run('bash', ['-n', bashFile])).resolves.toBeDefined();
  });

  it('completes commands, then subcommands', async () => {
    expect(await complete('berth mi')).toEqual(['migrate']);
    expect(await complete('berth pr')).toEqual(['prune']);
    expect(await complete('berth tasks ')).toEqual(['list', 'stop']);
    expect(await complete('berth tasks --j')).toEqual(['--json']);
  });

  it("offers a command's own options with the global ones, not --version", async () => {
    const options = await complete('berth prune --');
    expect(options).toEqual(
      expect.arrayContaining(['--older-than', '--keep', '--dry-run', '--config', '--json']),
    );
    expect(options).not.toContain('--version');
    expect(options).not.toContain('--concurrency');
    expect(await complete('berth tasks list --l')).toEqual(['--limit']);
    // A command without subcommands offers its options straight away.
    expect(await complete('berth prune ')).toEqual(expect.arrayContaining(['--keep', '--json']));
  });

  it('skips option values when finding the command, and completes fixed choices', async () => {
    expect(await complete('berth --config deploy/berth.yaml ta')).toEqual(['tasks']);
    expect(await complete('berth --provider ')).toEqual(['local', 'aws']);
    expect(await complete('berth migrate --on-error c')).toEqual(['continue']);
    expect(await complete('berth completion ')).toEqual(['bash', 'zsh', 'fish']);
    // A value with no fixed choices offers nothing (not the command list).
    expect(await complete('berth migrate --concurrency ')).toEqual([]);
  });

  it('has a case for every command and subcommand of the parser', () => {
    const script = completionScript(buildProgram(), 'bash');
    for (const p of allPaths(buildProgram())) expect(script).toContain(`    "${p}") names=`);
  });
});

describe('zsh and fish completion', () => {
  it('zsh loads the bash function through bashcompinit', () => {
    const zsh = completionScript(buildProgram(), 'zsh');
    expect(zsh.split('\n')[0]).toBe('#compdef berth');
    expect(zsh).toContain('autoload -U +X bashcompinit && bashcompinit');
    expect(zsh).toContain('complete -o bashdefault -o default -F _berth berth');
  });

  it('fish completes commands with descriptions, and subcommand options in context', () => {
    const fish = completionScript(buildProgram(), 'fish').split('\n');
    expect(fish).toContain(
      "complete -c berth -n '__fish_use_subcommand' -a prune -d 'remove old task records, task logs and run journals from .berth/'",
    );
    expect(fish).toContain(
      "complete -c berth -n '__fish_seen_subcommand_from tasks; and not __fish_seen_subcommand_from list stop' -a list -d 'tasks and their results'",
    );
    expect(fish).toContain(
      "complete -c berth -n '__fish_seen_subcommand_from tasks; and __fish_seen_subcommand_from list' -l limit -r -d 'only the newest N tasks'",
    );
    expect(fish).toContain(
      "complete -c berth -l provider -s p -r -a 'local aws' -d 'local or aws (default: $BERTH_PROVIDER, else provider in berth.yaml)'",
    );
    // Quotes inside descriptions are escaped for fish.
    expect(fish).toContain(
      "complete -c berth -n '__fish_use_subcommand' -a logs -d 'print a task\\'s log'",
    );
    for (const p of allPaths(buildProgram()).filter((p) => !p.includes(' ')))
      expect(fish.some((l) => l.includes(`-a ${p} -d`))).toBe(true);
  });
});
