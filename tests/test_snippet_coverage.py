"""Every page is in the nav, and every file and section of the reference service is on some page."""

import ast

from guidekit.generated.folder_tree import snippet_files
from guidekit.markdown.includes import include_targets, sections_in, split_target
from guidekit.markdown.nav import nav_pages
from guidekit.paths import DOCS, SNIPPETS

# Files that must be shown on some page, whole or by a section.
SHOWN_FOLDERS = ("app/", "db/migrations/")


def doc_pages() -> list[str]:
    return sorted(path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md"))


def included() -> set[str]:
    """Every include target on every page, as written: `path` or `path:section`."""
    return {target for page in DOCS.rglob("*.md") for _, target in include_targets(page.read_text())}


def needs_a_page() -> set[str]:
    """Each file that must be shown, and each `[start:name]` section anywhere in `snippets/`."""
    needed: set[str] = set()
    for path in snippet_files():
        text = (SNIPPETS / path).read_text(encoding="utf-8")
        sections = sections_in(text)
        needed |= {f"{path.as_posix()}:{name}" for name in sections}
        if path.name == "__init__.py" and not has_code(text):
            continue  # a package marker, at most a docstring: nothing to show
        if path.as_posix().startswith(SHOWN_FOLDERS) and not sections:
            needed.add(path.as_posix())
    return needed


def shown(target: str, includes: set[str]) -> bool:
    """A section is shown by its own include; a file by a whole-file include or one of its sections."""
    if ":" in target:
        return target in includes
    return target in includes or any(split_target(include)[0] == target for include in includes)


def test_every_page_is_in_the_nav() -> None:
    missing = sorted(set(doc_pages()) - set(nav_pages()))
    assert missing == [], f"Pages not in the nav of mkdocs.yml; add them: {missing}"


def test_every_nav_entry_is_a_page() -> None:
    dangling = [page for page in nav_pages() if not (DOCS / page).is_file()]
    assert dangling == [], f"Nav entries without a page under docs/: {dangling}"


def has_code(source: str) -> bool:
    """More than a module docstring."""
    body = ast.parse(source).body
    return len(body) > (1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0)


def test_package_markers_with_code_must_be_shown() -> None:
    """`__init__.py` files are exempt from being shown only while they hold nothing but a docstring."""
    markers = {
        path.as_posix(): has_code((SNIPPETS / path).read_text())
        for path in snippet_files()
        if path.name == "__init__.py"
    }
    assert not markers["app/api/__init__.py"]
    assert all(path in needs_a_page() for path, code in markers.items() if code)


def test_every_file_and_section_is_on_a_page() -> None:
    includes = included()
    orphans = sorted(target for target in needs_a_page() if not shown(target, includes))
    assert orphans == [], (
        'Shown on no page; include each with a fence whose only line is --8<-- "path:section", '
        f"or delete the section marker: {orphans}"
    )
