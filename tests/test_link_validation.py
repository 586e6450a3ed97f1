"""A link to a missing page or a missing anchor fails the strict build, naming the page and the target."""

from pathlib import Path

from guidekit.site.build import mkdocs_build


def test_broken_page_and_anchor_links_fail_the_build(project_copy: Path) -> None:
    page = project_copy / "docs" / "cheatsheet.md"
    page.write_text(
        page.read_text()
        + "\nSee [a page that is not there](patterns/nowhere.md) and [a missing heading](stack.md#no-such-heading).\n"
    )

    completed = mkdocs_build(project_copy, project_copy / "site")

    log = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert "Doc file 'cheatsheet.md' contains a link 'patterns/nowhere.md'" in log
    assert "Doc file 'cheatsheet.md' contains a link 'stack.md#no-such-heading'" in log
    assert "Aborted with 2 warnings in strict mode!" in log
