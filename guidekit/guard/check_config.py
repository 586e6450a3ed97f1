"""Configuration blocks: parsed, then compared with the real file or model they describe.

- dotenv: every key is a `Settings` field; a block that shows `.env.example` has exactly
  the `Settings` fields, and its values pass `Settings` validation.
- TOML, YAML, INI: the block must be an excerpt of a real file of the repository: the one
  its `title="..."` names, else the one its content identifies (`pyproject.toml` by its
  tables, `mkdocs.yml` by its keys, the compose file by `services:`). Every key and value
  shown must be in that file. Compose services shown must have a healthcheck there.
- Dockerfile: every instruction is known, exec-form CMD/ENTRYPOINT parse as JSON, and
  every instruction shown is in the real Dockerfile.
"""

import configparser
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.core.config import Settings
from guidekit.guard.errors import FenceError
from guidekit.markdown.fences import Fence

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


def described_file(fence: Fence, candidates: list[Path], root: Path, snippets: Path) -> Path | None:
    """The real file a config block shows: named by its title, else the first candidate that exists."""
    if fence.title:
        for base in (snippets, root):
            if (base / fence.title).is_file():
                return base / fence.title
        return None
    return next((path for path in candidates if path.is_file()), None)


def is_subset(shown: object, real: object) -> bool:
    """Whether every key shown is in the real data with the same value; lists must be shown whole."""
    if isinstance(shown, dict):
        return isinstance(real, dict) and all(
            key in real and is_subset(value, real[key]) for key, value in shown.items()
        )
    return bool(shown == real)


def settings_env_names() -> set[str]:
    """The environment variable names `Settings` reads."""
    return {name.upper() for name in Settings.model_fields}


def parse_dotenv(text: str, where: str) -> dict[str, str]:
    """Parse `KEY=value` lines (comments, blank lines and `export ` allowed)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = re.fullmatch(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)", stripped)
        if not match:
            raise FenceError(f"{where}: `{stripped}` is not a KEY=value line")
        values[match[1]] = match[2].strip().strip("\"'")
    return values


def check_dotenv(fence: Fence, text: str, complete: bool) -> str:
    """Keys are `Settings` fields (all of them for `.env.example`); values validate."""
    values = parse_dotenv(text, fence.where)
    known = settings_env_names()
    unknown = sorted(set(values) - known)
    if unknown:
        raise FenceError(
            f"{fence.where}: {', '.join(unknown)} is not a field of app.core.config.Settings; "
            "the service would ignore it. Add the field or drop the key"
        )
    missing = sorted(known - set(values))
    if complete and missing:
        raise FenceError(f"{fence.where}: .env.example lacks {', '.join(missing)}, which Settings reads")
    if complete:
        # Through the environment, as the service reads them (JSON lists are decoded there).
        with pytest.MonkeyPatch.context() as patch:
            for name, value in values.items():
                patch.setenv(name, value)
            try:
                Settings(_env_file=None)
            except ValueError as error:
                raise FenceError(f"{fence.where}: these values do not pass Settings validation:\n{error}") from None
    return "keys are Settings fields" + (", all of them; values validate" if complete else "")


def check_toml(fence: Fence, text: str, root: Path, snippets: Path) -> str:
    """TOML must parse and be an excerpt of the real file it shows."""
    try:
        shown = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise FenceError(f"{fence.where}: not valid TOML: {error}") from None
    candidates = [snippets / "pyproject.toml", root / "pyproject.toml"] if _looks_like_pyproject(shown) else []
    for path in [described_file(fence, candidates, root, snippets)] if fence.title else candidates:
        if path and is_subset(shown, tomllib.loads(path.read_text(encoding="utf-8"))):
            return f"excerpt of {path.relative_to(root)}"
    raise FenceError(
        f"{fence.where}: this TOML is not an excerpt of {fence.title or 'a pyproject.toml of the repo'}: "
        'copy it from the real file (or include the file\'s section) and give it title="path"'
    )


def _looks_like_pyproject(data: dict[str, object]) -> bool:
    return bool(set(data) & {"project", "tool", "build-system", "dependency-groups"})


def check_yaml(fence: Fence, text: str, root: Path, snippets: Path) -> str:
    """YAML must parse and be an excerpt of the real file it shows."""
    try:
        shown = load_yaml(text)
    except yaml.YAMLError as error:
        raise FenceError(f"{fence.where}: not valid YAML: {error}") from None
    candidates: list[Path] = []
    if isinstance(shown, dict) and "services" in shown:
        candidates = [snippets / name for name in ("compose.yaml", "compose.yml", "docker-compose.yml")]
    elif isinstance(shown, dict) and set(shown) & {"nav", "theme", "markdown_extensions", "plugins", "site_name"}:
        candidates = [root / "mkdocs.yml"]
    path = described_file(fence, candidates, root, snippets)
    if path is None:
        raise FenceError(
            f'{fence.where}: this YAML describes no file of the repo; give it title="path/to/file" '
            "of the real file it shows (or include that file's section)"
        )
    real = load_yaml(path.read_text(encoding="utf-8"))
    if not is_subset(shown, real):
        raise FenceError(f"{fence.where}: this YAML differs from {path.relative_to(root)}; copy the real lines")
    if isinstance(shown, dict) and isinstance(shown.get("services"), dict) and isinstance(real, dict):
        check_compose_healthchecks(fence, list(shown["services"]), real, snippets)
    return f"excerpt of {path.relative_to(root)}"


def check_ini(fence: Fence, text: str, root: Path, snippets: Path) -> str:
    """INI must parse and be an excerpt of the file its title names."""
    shown = configparser.ConfigParser(interpolation=None)
    try:
        shown.read_string(text)
    except configparser.Error as error:
        raise FenceError(f"{fence.where}: not valid INI: {error}") from None
    path = described_file(fence, [], root, snippets)
    if path is None:
        raise FenceError(f'{fence.where}: give this INI block title="path" of the real file it shows')
    real = configparser.ConfigParser(interpolation=None)
    real.read_string(path.read_text(encoding="utf-8"))
    as_dict = {section: dict(shown[section]) for section in shown.sections()}
    if not is_subset(as_dict, {section: dict(real[section]) for section in real.sections()}):
        raise FenceError(f"{fence.where}: this INI differs from {path.relative_to(root)}")
    return f"excerpt of {path.relative_to(root)}"


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


def check_dockerfile(fence: Fence, text: str, snippets: Path) -> str:
    """Instructions are valid, and each one shown is in the real Dockerfile."""
    shown = dockerfile_instructions(text, fence.where)
    real_path = snippets / (fence.title or "Dockerfile")
    if not real_path.is_file():
        raise FenceError(f"{fence.where}: there is no {real_path.name} in snippets/ for this block to show")
    real = dockerfile_instructions(real_path.read_text(encoding="utf-8"), str(real_path))
    absent = [instruction for instruction in shown if instruction not in real]
    if absent:
        raise FenceError(f"{fence.where}: not in snippets/{real_path.name}: {absent[0]}")
    return f"instructions valid, excerpt of snippets/{real_path.name}"


def parse_included(fence: Fence, language: str, path: Path, snippets: Path) -> str:
    """Parse an included section as its kind; compose sections also get the healthcheck rule."""
    if language == "yaml":
        try:
            shown = load_yaml(fence.body)
        except yaml.YAMLError as error:
            raise FenceError(f"{fence.where}: the included YAML does not parse: {error}") from None
        real = load_yaml(path.read_text(encoding="utf-8"))
        if isinstance(real, dict) and isinstance(real.get("services"), dict) and isinstance(shown, dict):
            services = shown.get("services", shown)
            check_compose_healthchecks(fence, [name for name in services if name in real["services"]], real, snippets)
        return "YAML parses"
    if language == "toml":
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise FenceError(f"{fence.where}: {path.name} is not valid TOML: {error}") from None
        return "TOML parses"
    if language == "dockerfile":
        dockerfile_instructions(fence.body, fence.where)
        return "Dockerfile instructions valid"
    return "the file's section exists"


def check_compose_healthchecks(fence: Fence, names: list[str], compose: dict[str, Any], snippets: Path) -> None:
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
        raise FenceError(f"{fence.where}: compose services without a healthcheck: {', '.join(missing)}")
