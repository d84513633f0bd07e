"""Shell completion for bash and zsh, generated from the argument parser itself so that it never drifts.

zsh runs the same function through its bash completion layer (``bashcompinit``).
"""

from __future__ import annotations

import argparse

_BASH = r"""# remediate completion for bash: eval "$(remediate completion bash)"
_remediate() {
  local cur prev words cword
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  local commands="__COMMANDS__"
  local command="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="${COMP_WORDS[i]}"
    case "$word" in -*) ;; *) command="$word"; break ;; esac
  done
  if [ -z "$command" ]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return 0
  fi
  names() { ls "$1" 2>/dev/null | sed -n 's/\.ya\?ml$//p'; }
  case "$prev" in
    -i|--inventory) COMPREPLY=($(compgen -W "$(names inventory)" -- "$cur") $(compgen -f -- "$cur")); return 0 ;;
    --plan|-o|--output|--ssh-config|--dir|--inventory-file|--file) COMPREPLY=($(compgen -f -- "$cur")); return 0 ;;
  esac
  local options=""
  case "$command" in
__OPTIONS__
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  else
    case "$command" in
      apply|plan|audit) COMPREPLY=($(compgen -W "$(names playbooks)" -- "$cur") $(compgen -f -- "$cur")) ;;
      lab) COMPREPLY=($(compgen -W "up down status" -- "$cur")) ;;
      *) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
  fi
  return 0
}
complete -F _remediate remediate
"""

_ZSH_HEADER = """# remediate completion for zsh: eval "$(remediate completion zsh)"
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
"""


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> list[str]:
    found = [option for action in parser._actions for option in action.option_strings]
    for sub in _subcommands(parser).values():  # `lab up --hosts`: the nested commands' options too
        found += _options(sub)
    return sorted(set(found))


def bash_script(parser: argparse.ArgumentParser) -> str:
    commands = _subcommands(parser)
    cases = "\n".join(f'    {name}) options="{" ".join(_options(sub))}" ;;' for name, sub in sorted(commands.items()))
    return _BASH.replace("__COMMANDS__", " ".join(sorted(commands))).replace("__OPTIONS__", cases)


def zsh_script(parser: argparse.ArgumentParser) -> str:
    return _ZSH_HEADER + bash_script(parser)
