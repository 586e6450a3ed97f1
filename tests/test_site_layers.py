"""The site's own layer rules: which folder may import which, and one parser for each piece of Markdown.

The reference service has its layers (`snippets/tests/test_layer_rules.py`); the machinery around
the pages has these. `guidekit` is the toolkit: the build, the guard, the scripts and the tests use
it, and it uses none of them. Each rule is checked on the real tree and on a planted violation, so
a rule that can no longer fail is caught too.
"""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from guidekit.paths import ROOT

# Who may import whom, by top-level folder (or the root conftest). Third-party and standard
# modules are not listed: only the repository's own folders and the service are.
OWN = {"guidekit", "hooks", "scripts", "tests", "app"}
MAY_IMPORT: dict[str, set[str]] = {
    "guidekit": {"guidekit", "app"},  # the guard reads the service's models and OpenAPI document
    "hooks": {"guidekit"},
    "scripts": {"guidekit", "app"},  # dev_service.py runs the service itself
    "conftest.py": {"guidekit", "tests"},  # registers the service's servers plugin, `tests.servers`
    "tests": {"guidekit", "hooks", "scripts", "app", "tests"},  # `tests.servers`: the service's plugin, by name
    "snippets/app": {"app"},  # the service stands alone
    "snippets/tests": {"app", "tests"},  # its own tests and their plugin; nothing of the site's
}
# The one `tests` module the site may name: the service's servers plugin (registered by name, never loaded
# from a path). Any other `tests.*` import in the site is an import of another test module.
SERVICE_PLUGIN = "tests.servers"


@dataclass(frozen=True)
class Import:
    """One import statement: the file, its line, and the top-level module it imports."""

    path: str
    line: int
    module: str


def imports_in(path: Path, text: str) -> list[Import]:
    """The repository-owned modules a file imports, plugins it registers by name included."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if node.level == 0 else [layer_of(path)]
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytest_plugins" for target in node.targets
        ):
            names = [str(item.value) for item in ast.walk(node.value) if isinstance(item, ast.Constant)]
        else:
            continue
        found += [Import(path.as_posix(), node.lineno, str(name)) for name in names]
    return [found_import for found_import in found if found_import.module.split(".")[0] in OWN]


def layer_of(path: Path) -> str:
    """The layer a file belongs to: its top-level folder (two levels in `snippets/`), or the root conftest."""
    if path.parts[0] == "snippets":
        return "/".join(path.parts[:2])
    return path.parts[0] if len(path.parts) > 1 else path.name


def violations(files: dict[Path, str]) -> list[str]:
    """Each import that crosses a layer the rules above forbid, as `path:line: message`."""
    problems = []
    for path, text in files.items():
        allowed = MAY_IMPORT[layer_of(path)]
        for found in imports_in(path, text):
            top = found.module.split(".")[0]
            site_imports_a_test = (
                top == "tests" and found.module != SERVICE_PLUGIN and layer_of(path) != "snippets/tests"
            )
            if top not in allowed or site_imports_a_test:
                problems.append(
                    f"{found.path}:{found.line}: {layer_of(path)} imports {found.module}; "
                    f"it may import only {', '.join(sorted(allowed))} (move shared code into guidekit)"
                )
    return problems


def repository_files() -> dict[Path, str]:
    """Every Python file of the site's folders and the service, by path from the root."""
    folders = [ROOT / name for name in ("guidekit", "hooks", "scripts", "tests", "snippets/app", "snippets/tests")]
    paths = [path for folder in folders for path in folder.rglob("*.py")] + [ROOT / "conftest.py"]
    return {path.relative_to(ROOT): path.read_text(encoding="utf-8") for path in paths}


def test_no_folder_imports_one_it_must_not() -> None:
    problems = violations(repository_files())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("guidekit/site/build.py", "from tests.conftest import BuiltSite\n"),
        ("scripts/bench_site.py", "from tests.browser.site import search\n"),
        ("hooks/diagrams.py", "import scripts.render_diagrams\n"),
        ("scripts/render_diagrams.py", "from hooks.diagrams import on_page_markdown\n"),
        ("tests/test_x.py", "from tests.conftest import ROOT\n"),
        ("snippets/app/main.py", "from guidekit.paths import ROOT\n"),
        ("snippets/tests/conftest.py", "from guidekit.paths import ROOT\n"),
        ("snippets/tests/conftest.py", 'pytest_plugins = ["guidekit.tested_with"]\n'),
        ("conftest.py", "import hooks.proof_links\n"),
        ("conftest.py", 'pytest_plugins = ["tests.conftest"]\n'),
    ],
)
def test_a_planted_import_across_layers_is_reported(path: str, text: str) -> None:
    (problem,) = violations({Path(path): text})
    assert problem.startswith(f"{path}:1: ")


# The Markdown model has one home: `--8<--` is read only by the include grammar, fences only by the
# fence parser. A regular expression elsewhere that reads either is a second grammar that will drift.
GRAMMAR_HOMES = {"8<": "guidekit/markdown/includes.py", "```|~~~|`{3": "guidekit/markdown/fences.py"}
_PATTERN_CALL = re.compile(r"^(compile|match|search|fullmatch|findall|finditer|sub|split)$")


def regex_literals(text: str) -> list[tuple[int, str]]:
    """Each string literal given as the pattern of a `re` call (or `re.compile`), with its line."""
    found = []
    for node in ast.walk(ast.parse(text)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and _PATTERN_CALL.match(node.func.attr)
            and node.args
        ):
            pattern = node.args[0]
            parts = pattern.values if isinstance(pattern, ast.JoinedStr) else [pattern]
            literal = [part.value for part in parts if isinstance(part, ast.Constant) and isinstance(part.value, str)]
            found.append((node.lineno, "".join(literal)))
    return found


def second_grammars(files: dict[Path, str]) -> list[str]:
    """Regular expressions outside the grammar's home that read includes or fences."""
    problems = []
    for path, text in files.items():
        for line, pattern in regex_literals(text):
            for needle, home in GRAMMAR_HOMES.items():
                if path.as_posix() != home and any(part in pattern for part in needle.split("|")):
                    problems.append(f"{path}:{line}: a second grammar ({pattern!r}); use {home}")
    return problems


def test_one_include_grammar_and_one_fence_parser() -> None:
    files = {path: text for path, text in repository_files().items() if path.parts[0] != "snippets"}
    problems = second_grammars(files)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "text",
    [
        'import re\nINCLUDE = re.compile(r\'--8<-- "([^"]+)"\')\n',
        'import re\nFENCE = re.compile(r"^```(\\w+)\\n(.*?)^```", re.DOTALL)\n',
        'import re\nfences = re.findall(f"~~~{name}", text)\n',
    ],
)
def test_a_second_grammar_is_found(text: str) -> None:
    (problem,) = second_grammars({Path("tests/test_x.py"): text})
    assert problem.startswith("tests/test_x.py:2: a second grammar")
