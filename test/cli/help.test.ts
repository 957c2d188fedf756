/** Every `--help` page has examples, and subcommands show the global options. */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, commandPath } from '../../src/cli/help-examples.js';
import { buildProgram } from '../../src/cli/main.js';

function all(command: Command): Command[] {
  return [command, ...command.commands.flatMap(all)];
}

/** The full help page, as `berth … --help` prints it (with the text added after). */
function helpOf(command: Command): string {
  let text = '';
  for (let c: Command | null = command; c; c = c.parent)
    c.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  command.outputHelp();
  return text;
}

describe('--help', () => {
  const program = buildProgram();
  const commands = all(program);

  it('has examples on every page, each one running a berth command', () => {
    const missing = commands.map(commandPath).filter((p) => !EXAMPLES[p]?.length);
    expect(missing).toEqual([]);
    for (const command of commands) {
      const help = helpOf(command);
      expect(help, commandPath(command) || 'berth').toMatch(/\nExamples:\n {2}\$ /);
      const path = commandPath(command);
      // The examples of a command use that command (the program's are an overview).
      if (path)
        for (const example of EXAMPLES[path] ?? [])
          expect(example, path).toMatch(new RegExp(`berth .*${path.split(' ').join(' ')}`));
    }
  });

  it('lists no example for a command that does not exist', () => {
    const paths = new Set(commands.map(commandPath));
    expect(Object.keys(EXAMPLES).filter((p) => !paths.has(p))).toEqual([]);
  });

  it('shows the global options on subcommands', () => {
    const stop = commands.find((c) => commandPath(c) === 'tasks stop');
    const help = helpOf(stop!);
    expect(help).toContain('Global Options:');
    for (const flag of ['--config', '--json', '--provider', '--profile', '--region'])
      expect(help).toContain(flag);
  });
});
