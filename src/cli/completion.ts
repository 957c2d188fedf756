/**
 * Shell completion scripts, generated from the parser itself (commander's command tree), so a
 * new command or option completes without anyone editing a script: commands and subcommands,
 * each command's options with the global ones, option values with fixed choices, files after
 * --config and --output. bash is the reference; zsh loads the same function through
 * bashcompinit; fish gets native `complete` lines with descriptions.
 */
import type { Command, Option } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface Node {
  /** Space-separated path of command names below the program ('' for the program). */
  path: string;
  description: string;
  children: Node[];
  options: Option[];
  /** Fixed values of its positional arguments (e.g. completion's shells). */
  argChoices: string[];
}

const FILE_OPTIONS = new Set(['--config', '--output']);

export function completionScript(program: Command, shell: Shell): string {
  const root = tree(program, '');
  switch (shell) {
    case 'bash':
      return bash(program.name(), root);
    case 'zsh':
      return `#compdef ${program.name()}\n# berth completion for zsh: eval "$(${program.name()} completion zsh)" in ~/.zshrc\nautoload -U +X bashcompinit && bashcompinit\n${bash(program.name(), root)}`;
    case 'fish':
      return fish(program.name(), root);
  }
}

function tree(command: Command, path: string): Node {
  return {
    path,
    description: command.description(),
    children: command.commands
      .filter((c) => !(c as Command & { _hidden?: boolean })._hidden)
      .map((c) => tree(c, path ? `${path} ${c.name()}` : c.name())),
    options: command.options.filter((o) => !o.hidden),
    argChoices: command.registeredArguments.flatMap((a) => a.argChoices ?? []),
  };
}

function nodes(node: Node): Node[] {
  return [node, ...node.children.flatMap(nodes)];
}

const flags = (o: Option) => [o.long, o.short].filter((f): f is string => Boolean(f));
const takesValue = (o: Option) => o.required || o.optional;

function bash(name: string, root: Node): string {
  const all = nodes(root);
  const globals = [...root.options.flatMap(flags), '--help'];
  // --version works on the program only.
  const inherited = globals.filter((f) => f !== '--version' && f !== '-v');
  const valued = unique(all.flatMap((n) => n.options.filter(takesValue).flatMap(flags)));
  const choices = new Map<string, Set<string>>();
  for (const o of all.flatMap((n) => n.options)) {
    if (!o.argChoices) continue;
    for (const f of flags(o)) {
      const set = choices.get(f) ?? new Set<string>();
      o.argChoices.forEach((c) => set.add(c));
      choices.set(f, set);
    }
  }
  const fn = `_${name.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const fileFlags = new Set(
    all.flatMap((n) => n.options.filter((o) => o.long && FILE_OPTIONS.has(o.long)).flatMap(flags)),
  );
  const pattern = (list: string[]) => (list.length > 0 ? list.join('|') : undefined);
  const valueCases = [
    ...[...choices].map(
      ([f, set]) =>
        `    ${f}) COMPREPLY=($(compgen -W "${[...set].join(' ')}" -- "$cur")); return ;;`,
    ),
    [pattern([...fileFlags]), 'COMPREPLY=($(compgen -f -- "$cur")); return ;;'],
    [
      pattern(valued.filter((f) => !choices.has(f) && !fileFlags.has(f))),
      'COMPREPLY=(); return ;;',
    ],
  ].flatMap((c) => (typeof c === 'string' ? [c] : c[0] ? [`    ${c[0]}) ${c[1]}`] : []));
  // Options when the word starts with '-' (or there is nothing else to offer); else subcommands.
  const wordCases = all.map((n) => {
    const names = unique([
      ...n.children.map((c) => c.path.split(' ').at(-1) ?? ''),
      ...n.argChoices,
    ]);
    const options = unique(n === root ? globals : [...n.options.flatMap(flags), ...inherited]);
    return `    "${n.path}") names="${names.join(' ')}" options="${options.join(' ')}" ;;`;
  });
  return `# ${name} completion for bash: eval "$(${name} completion bash)" in ~/.bashrc, or save it as
# /etc/bash_completion.d/${name}. Generated from ${name}'s own parser.
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local cmd="" w i skip=0 names options
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      ${valued.join('|') || '--'}) skip=1 ;;
      -*) ;;
      *) cmd="\${cmd:+$cmd }$w" ;;
    esac
  done
  case "$prev" in
${valueCases.join('\n')}
  esac
  case "$cmd" in
${wordCases.join('\n')}
    *) names="" options="${inherited.join(' ')}" ;;
  esac
  if [[ "$cur" == -* || -z "$names" ]]; then names="$options"; fi
  COMPREPLY=($(compgen -W "$names" -- "$cur"))
}
complete -o bashdefault -o default -F ${fn} ${name}
`;
}

function fish(name: string, root: Node): string {
  const lines = [
    `# ${name} completion for fish: ${name} completion fish > ~/.config/fish/completions/${name}.fish`,
    `# Generated from ${name}'s own parser.`,
    `complete -c ${name} -f`,
  ];
  const quote = (text: string) => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const option = (o: Option, condition?: string) => {
    const parts = [`complete -c ${name}`];
    if (condition) parts.push(`-n ${quote(condition)}`);
    if (o.long) parts.push(`-l ${o.long.replace(/^--/, '')}`);
    if (o.short) parts.push(`-s ${o.short.replace(/^-/, '')}`);
    if (takesValue(o)) parts.push(o.long && FILE_OPTIONS.has(o.long) ? '-r -F' : '-r');
    if (o.argChoices) parts.push(`-a ${quote(o.argChoices.join(' '))}`);
    if (o.description) parts.push(`-d ${quote(o.description)}`);
    return parts.join(' ');
  };
  for (const o of root.options) lines.push(option(o));
  for (const node of nodes(root)) {
    const names = node.children.map((c) => c.path.split(' ').at(-1) ?? '');
    const path = node.path ? node.path.split(' ') : [];
    // At this node: every word of its path seen, and none of its children yet.
    const at = [
      ...(path.length === 0 ? ['__fish_use_subcommand'] : []),
      ...path.map((p) => `__fish_seen_subcommand_from ${p}`),
      ...(path.length > 0 && names.length > 0
        ? [`not __fish_seen_subcommand_from ${names.join(' ')}`]
        : []),
    ].join('; and ');
    for (const child of node.children) {
      const childName = child.path.split(' ').at(-1) ?? '';
      lines.push(
        `complete -c ${name} -n ${quote(at)} -a ${childName} -d ${quote(child.description)}`,
      );
    }
    if (node.argChoices.length > 0)
      lines.push(`complete -c ${name} -n ${quote(at)} -a ${quote(node.argChoices.join(' '))}`);
    if (node !== root) for (const o of node.options) lines.push(option(o, at));
  }
  return `${lines.join('\n')}\n`;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
