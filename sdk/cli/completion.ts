// `warren completion bash|zsh`: a completion script generated from the command table (args.ts),
// so a new command or option completes without editing a script.
import { UsageError } from '../errors.ts';
import { COMMANDS, OPTIONS, type CliArgs, type OptionName } from './args.ts';

export async function completionCommand(args: CliArgs): Promise<number> {
  const [shell] = args.positionals;
  if (shell === 'bash') process.stdout.write(bashCompletion());
  else if (shell === 'zsh') process.stdout.write(zshCompletion());
  else throw new UsageError(`completion needs a shell: warren completion bash|zsh${shell ? ` (not '${shell}')` : ''}`);
  return 0;
}

function flagsOf(options: readonly OptionName[]): string[] {
  return [...options, 'help' as const].flatMap((name) => {
    const short = (OPTIONS[name] as { short?: string }).short;
    return [`--${name}`, ...(short ? [`-${short}`] : [])];
  });
}

/** Recipes complete as files ending in .env.ts, .ts, .js or .mjs (bundles). */
export function bashCompletion(): string {
  const cases = COMMANDS.filter((c) => c.name !== 'completion' && c.name !== 'help').map((c) => `    ${c.name}) opts="${flagsOf(c.options).join(' ')}"; recipe=${c.recipe === 'none' ? 0 : 1} ;;`).join('\n');
  return `# bash completion for warren (warren completion bash)
_warren() {
  local cur prev cmd opts recipe
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${COMMANDS.map((c) => c.name).join(' ')}" -- "$cur") )
    return
  fi
  case "$prev" in
    -i|--instance) return ;;
    -o|--output|--state-dir) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  case "$cmd" in
${cases}
    completion) COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") ); return ;;
    help) COMPREPLY=( $(compgen -W "${COMMANDS.map((c) => c.name).join(' ')}" -- "$cur") ); return ;;
    *) opts=""; recipe=0 ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
  elif [ "$recipe" -eq 1 ]; then
    COMPREPLY=( $(compgen -f -X '!*.@(ts|js|mjs)' -- "$cur") $(compgen -d -- "$cur") )
  fi
}
shopt -s extglob 2>/dev/null
complete -o filenames -F _warren warren
`;
}

export function zshCompletion(): string {
  const describe = COMMANDS.map((c) => `    '${c.name}:${c.summary.replaceAll("'", "'\\''").replaceAll(':', '\\:')}'`).join('\n');
  const cases = COMMANDS.map((c) => {
    const specs = [...c.options, 'help' as const].map((name) => {
      const o = OPTIONS[name] as { short?: string; value?: string; help: string };
      const help = o.help.replaceAll("'", "'\\''").replaceAll('[', '(').replaceAll(']', ')');
      const value = o.value ? `:${o.value}:${name === 'output' || name === 'state-dir' ? '_files' : ' '}` : '';
      return o.short ? `'(-${o.short} --${name})'{-${o.short},--${name}}'[${help}]${value}'` : `'--${name}[${help}]${value}'`;
    });
    const recipe = c.recipe === 'none' ? '' : ` '*:recipe:_files -g "*.(ts|js|mjs)"'`;
    return `    ${c.name}) _arguments ${specs.join(' ')}${recipe} ;;`;
  }).join('\n');
  return `#compdef warren
# zsh completion for warren (warren completion zsh)
_warren() {
  local -a commands
  commands=(
${describe}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=\${words[2]}
  shift words
  (( CURRENT-- ))
  case $cmd in
${cases}
  esac
}
compdef _warren warren 2>/dev/null || _warren "$@"
`;
}
