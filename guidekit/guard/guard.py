"""Classify each fence by kind, look its checker up in the registry, and call it.

An include is resolved here, once, into the regions it shows; the checker gets each of them
as a `Shown` carrying the text, the page and line, and the `Region` (file, section, lines).
"""

import textwrap
from dataclasses import dataclass

from guidekit.guard import check_config, check_coverage, check_json, check_mermaid, check_python, check_shell, check_sql
from guidekit.guard.checker import Checker, Context, FenceError, Shown, Status
from guidekit.markdown.fences import Fence
from guidekit.markdown.includes import IncludeError, Region, fence_includes, has_include, resolve

CHECKERS = (check_python, check_coverage, check_sql, check_shell, check_json, check_config, check_mermaid)
REGISTRY: dict[str, Checker] = {kind: module.CHECKER for module in CHECKERS for kind in module.CHECKER.kinds}
"""Each kind of fence and the one checker that verifies it."""
assert len(REGISTRY) == sum(len(module.CHECKER.kinds) for module in CHECKERS), "a kind has two checkers"

KIND_OF_LANGUAGE = {"bash": "shell", "console": "shell"}
"""Languages whose kind has another name; any other language is its own kind."""
INLINE_LANGUAGES = sorted(
    {kind for kind in REGISTRY if not kind.endswith("include")} - set(KIND_OF_LANGUAGE.values()) | set(KIND_OF_LANGUAGE)
)
HOW_TO_FIX = (
    'include the code from snippets/ (`--8<-- "path:section"`), use a language the guard verifies inline '
    f"({', '.join(INLINE_LANGUAGES)}), or opt out with `<!-- guard: skip <reason> -->` on the line above"
)


@dataclass
class Verdict:
    """What a checker proved about a fence."""

    kind: str
    status: Status
    detail: str
    regions: tuple[Region, ...] = ()


def classify(fence: Fence) -> str:
    """The kind of a fence, which picks its checker: `unclassified` when no checker takes it."""
    kind = KIND_OF_LANGUAGE.get(fence.language, fence.language)
    if fence_includes(fence.body) is not None:
        return f"{kind}-include" if f"{kind}-include" in REGISTRY else "include"
    return kind if kind in REGISTRY else "unclassified"


def check(fence: Fence, context: Context) -> Verdict:
    """Verify one fence, or raise FenceError saying what is wrong and what to do."""
    kind = classify(fence)
    if "skip" in fence.markers:
        if not fence.markers["skip"].strip():
            raise FenceError(f"{fence.where}: `<!-- guard: skip -->` needs a reason after `skip`")
        return Verdict(kind, "opted out", fence.markers["skip"])
    if has_include(fence.body) and fence_includes(fence.body) is None:
        raise FenceError(f"{fence.where}: a fence mixes `--8<--` includes with inline lines; split it in two")
    checker = REGISTRY.get(kind)
    if checker is None:
        raise FenceError(
            f"{fence.where}: no checker verifies a fence of language `{fence.language or '(none)'}`: {HOW_TO_FIX}"
        )
    regions = _regions(fence, context)
    shown = [
        Shown(fence.page, fence.line, fence.language, textwrap.dedent(region.text), None, fence.markers, region)
        for region in regions
    ] or [Shown(fence.page, fence.line, fence.language, fence.body, fence.title, fence.markers)]
    details = [checker.check(each, context) for each in shown]
    return Verdict(kind, checker.status, "; ".join(dict.fromkeys(details)), regions)


def _regions(fence: Fence, context: Context) -> tuple[Region, ...]:
    """The regions an include fence shows (none for inline code); a missing file or section fails here."""
    try:
        return tuple(resolve(target, [context.snippets]) for target in fence_includes(fence.body) or [])
    except IncludeError as error:
        raise FenceError(f"{fence.where}: {error}") from None
