"""Configuration blocks, and any other file a page includes from `snippets/`.

- Inline TOML and YAML must parse and be an excerpt of a real file of the repository: the
  one their `title="..."` names, else the one their content identifies (`pyproject.toml` by
  its tables, `mkdocs.yml` by its keys, the compose file by `services:`). Every key and value
  shown must be in that file. Compose services shown must have a healthcheck there.
- An included file parses as its kind (YAML, TOML; a Dockerfile's instructions are known and
  exec-form CMD/ENTRYPOINT are JSON), included compose services have a healthcheck, and some
  test under `snippets/tests` reads the file, so something checks what the page shows.
"""

import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from guidekit.guard.checker import Checker, Context, FenceError, Shown
from guidekit.guard.shared import is_subset

DOCKER_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
    "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
}  # fmt: skip


class _AnyTagLoader(yaml.SafeLoader):
    """Safe loading that tolerates tags like mkdocs.yml's `!!python/name:`."""


def _tag_as_plain_value(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> object:
    return loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode) else None


_AnyTagLoader.add_multi_constructor("", _tag_as_plain_value)


def load_yaml(text: str) -> object:
    """Parse YAML, accepting custom tags as plain values."""
    return yaml.load(text, Loader=_AnyTagLoader)  # noqa: S506  # the loader is SafeLoader plus tag tolerance


def check(shown: Shown, context: Context) -> str:
    """An inline block is an excerpt of the real file; an included file parses and a service test reads it."""
    if shown.region is None:
        return EXCERPTS[shown.language](shown, context.root, context.snippets)
    parse = PARSERS.get(shown.language)
    parsed = parse(shown, context.snippets) if parse else "the file's section exists"
    name = shown.region.path.relative_to(context.snippets).as_posix()
    readers = tests_reading(shown.region.path, context.snippets)
    if not readers:
        raise FenceError(
            f"{shown.where}: no test under snippets/tests reads {name}, so nothing checks what this block shows; "
            "add a test of the file"
        )
    return f"{parsed}; {name} is tested by {', '.join(readers)}"


def tests_reading(path: Path, snippets: Path) -> list[str]:
    """The service tests that name a file (by its name), i.e. that read and check it."""
    return sorted(
        test.relative_to(snippets).as_posix()
        for test in (snippets / "tests").rglob("*.py")
        if path.name in test.read_text(encoding="utf-8")
    )


def described_file(shown: Shown, candidates: list[Path], root: Path, snippets: Path) -> Path | None:
    """The real file an inline config block shows: named by its title, else the first candidate that exists."""
    if shown.title:
        return next((base / shown.title for base in (snippets, root) if (base / shown.title).is_file()), None)
    return next((path for path in candidates if path.is_file()), None)


def excerpt_of_toml(shown: Shown, root: Path, snippets: Path) -> str:
    """TOML must parse and be an excerpt of the real file it shows."""
    try:
        data = tomllib.loads(shown.text)
    except tomllib.TOMLDecodeError as error:
        raise FenceError(f"{shown.where}: not valid TOML: {error}") from None
    candidates = [snippets / "pyproject.toml", root / "pyproject.toml"] if _looks_like_pyproject(data) else []
    for path in [described_file(shown, candidates, root, snippets)] if shown.title else candidates:
        if path and is_subset(data, tomllib.loads(path.read_text(encoding="utf-8"))):
            return f"excerpt of {path.relative_to(root)}"
    raise FenceError(
        f"{shown.where}: this TOML is not an excerpt of {shown.title or 'a pyproject.toml of the repo'}: "
        'copy it from the real file (or include the file\'s section) and give it title="path"'
    )


def _looks_like_pyproject(data: dict[str, object]) -> bool:
    return bool(set(data) & {"project", "tool", "build-system", "dependency-groups"})


def excerpt_of_yaml(shown: Shown, root: Path, snippets: Path) -> str:
    """YAML must parse and be an excerpt of the real file it shows."""
    try:
        data = load_yaml(shown.text)
    except yaml.YAMLError as error:
        raise FenceError(f"{shown.where}: not valid YAML: {error}") from None
    candidates: list[Path] = []
    if isinstance(data, dict) and "services" in data:
        candidates = [snippets / name for name in ("compose.yaml", "compose.yml", "docker-compose.yml")]
    elif isinstance(data, dict) and set(data) & {"nav", "theme", "markdown_extensions", "plugins", "site_name"}:
        candidates = [root / "mkdocs.yml"]
    path = described_file(shown, candidates, root, snippets)
    if path is None:
        raise FenceError(
            f'{shown.where}: this YAML describes no file of the repo; give it title="path/to/file" '
            "of the real file it shows (or include that file's section)"
        )
    real = load_yaml(path.read_text(encoding="utf-8"))
    if not is_subset(data, real):
        raise FenceError(f"{shown.where}: this YAML differs from {path.relative_to(root)}; copy the real lines")
    if isinstance(data, dict) and isinstance(data.get("services"), dict) and isinstance(real, dict):
        check_compose_healthchecks(shown, list(data["services"]), real, snippets)
    return f"excerpt of {path.relative_to(root)}"


EXCERPTS: dict[str, Callable[[Shown, Path, Path], str]] = {"toml": excerpt_of_toml, "yaml": excerpt_of_yaml}
"""Inline config kinds, by language: each checks that the block is an excerpt of a real file."""


def parse_yaml(shown: Shown, snippets: Path) -> str:
    """An included YAML section parses; the compose services it shows have a healthcheck."""
    assert shown.region is not None, "only included sections are parsed"
    try:
        data = load_yaml(shown.text)
    except yaml.YAMLError as error:
        raise FenceError(f"{shown.where}: the included YAML does not parse: {error}") from None
    real = load_yaml(shown.region.path.read_text(encoding="utf-8"))
    if isinstance(real, dict) and isinstance(real.get("services"), dict) and isinstance(data, dict):
        services = data.get("services", data)
        check_compose_healthchecks(shown, [name for name in services if name in real["services"]], real, snippets)
    return "YAML parses"


def parse_toml(shown: Shown, _snippets: Path) -> str:
    """The included TOML file parses (a section alone may not: its table header can lie outside it)."""
    assert shown.region is not None, "only included sections are parsed"
    try:
        tomllib.loads(shown.region.path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise FenceError(f"{shown.where}: {shown.region.path.name} is not valid TOML: {error}") from None
    return "TOML parses"


def parse_dockerfile(shown: Shown, _snippets: Path) -> str:
    """The included Dockerfile's instructions are known, and exec-form CMD/ENTRYPOINT are JSON."""
    dockerfile_instructions(shown.text, shown.where)
    return "Dockerfile instructions valid"


def dockerfile_instructions(text: str, where: str) -> list[str]:
    """The instructions of a Dockerfile, continuations joined, whitespace normalized."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.strip().startswith("#")))
    instructions = [" ".join(line.split()) for line in joined.splitlines() if line.strip()]
    for instruction in instructions:
        keyword, _, argument = instruction.partition(" ")
        if keyword.upper() not in DOCKER_INSTRUCTIONS:
            raise FenceError(f"{where}: `{keyword}` is not a Dockerfile instruction")
        if keyword.upper() in {"CMD", "ENTRYPOINT"} and argument.startswith("["):
            try:
                json.loads(argument)
            except json.JSONDecodeError:
                raise FenceError(f"{where}: exec-form {keyword} is not valid JSON: {argument}") from None
    return instructions


PARSERS: dict[str, Callable[[Shown, Path], str]] = {
    "yaml": parse_yaml,
    "toml": parse_toml,
    "dockerfile": parse_dockerfile,
}
"""Included files with a parser of their kind; any other included file needs only a test that reads it."""


def check_compose_healthchecks(shown: Shown, names: list[str], compose: dict[str, Any], snippets: Path) -> None:
    """Long-running services have a healthcheck: in Compose, or as the HEALTHCHECK of the image they build.

    One-shot services (`restart: "no"`) need none; `healthcheck: {disable: true}` is an explicit choice.
    """
    dockerfile = snippets / "Dockerfile"
    image_has_healthcheck = dockerfile.is_file() and "HEALTHCHECK" in dockerfile.read_text(encoding="utf-8")
    missing = []
    for name in names:
        service = compose["services"][name] or {}
        one_shot = str(service.get("restart", "")).strip('"') == "no"
        if not (one_shot or "healthcheck" in service or ("build" in service and image_has_healthcheck)):
            missing.append(name)
    if missing:
        raise FenceError(f"{shown.where}: compose services without a healthcheck: {', '.join(missing)}")


CHECKER = Checker(
    frozenset({"toml", "yaml", "include", *(f"{language}-include" for language in PARSERS)}),
    check,
)
