"""A broken `--8<--` include fails the build and names the page, the line, the file and the section."""

from pathlib import Path

import pytest

from guidekit.markdown.includes import fence_includes, include_targets, problems_with, resolve, swallowed_lines
from guidekit.paths import SNIPPETS
from guidekit.site.build import mkdocs_build


def test_missing_file_and_section_fail_the_build_naming_both(project_copy: Path) -> None:
    page = project_copy / "docs" / "index.md"  # the first page built, so the build stops early
    lines = page.read_text().splitlines()
    broken = [
        "```python",
        '--8<-- "app/no_such_module.py"',
        "```",
        "```python",
        '--8<-- "app/db/database.py:no_such_section"',
        "```",
    ]
    page.write_text("\n".join([*lines, "", *broken]) + "\n")
    file_line, section_line = len(lines) + 3, len(lines) + 6

    completed = mkdocs_build(project_copy, project_copy / "site")

    log = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert f'docs/index.md:{file_line}: "app/no_such_module.py": no file' in log
    assert f'docs/index.md:{section_line}: "app/db/database.py:no_such_section"' in log
    assert 'section "no_such_section" is not in' in log
    assert "its sections: engine, server_timeouts, session_dependency" in log


def test_a_page_line_the_snippets_extension_would_drop_fails_the_build(project_copy: Path) -> None:
    page = project_copy / "docs" / "index.md"  # the first page built, so the build stops early
    lines = page.read_text().splitlines()
    prose = "Sections start at a `# --8<-- [start:name]` comment line."  # read as a marker: dropped
    page.write_text("\n".join([*lines, "", prose]) + "\n")

    completed = mkdocs_build(project_copy, project_copy / "site")

    log = completed.stdout + completed.stderr
    assert completed.returncode != 0
    assert f"docs/index.md:{len(lines) + 2}: the snippets extension drops this line" in log
    assert "`;--8<--`" in log  # the fix


def test_swallowed_lines_are_markers_anywhere_and_bare_scissors_in_prose() -> None:
    page = "\n".join(
        [
            "```python",  # 1
            '--8<-- "app/main.py:lifespan"',  # an include: fine
            "# --8<-- [end:lifespan]",  # 3: a marker in a code block vanishes from it too
            "```",
            'Prose that mentions --8<-- "app/x.py" inline.',  # 5: not an include, so not what it looks like
            "Escaped: ;--8<-- [start:name] shows as written.",  # the extension's own opt-out
            "--8<--",  # a block of includes
            "app/api/api.py:routers",
            "--8<--",
            "~~~~markdown",  # 10
            "```",
            "Tell the reader --8<-- here",  # 12: still in the ~~~~ fence, and not a marker: shown as is
            "```",
            "~~~~",
            '    --8<-- "tests/db/test_migrations.py:test_no_transaction_migrations"',  # indented include
            'In backticks, `--8<-- "app/x.py"` is shown as written.',
            "But not `# --8<-- [start:name]`, which drops the line all the same.",  # 17
        ]
    )
    assert [number for number, _ in swallowed_lines(page)] == [3, 5, 17]


def test_a_marker_in_a_block_of_includes_is_a_path_not_a_dropped_line() -> None:
    """Inside `--8<--` ... `--8<--` the extension reads every line as a path, markers included."""
    page = "\n".join(["--8<--", "app/api/api.py:routers", "# --8<-- [start:name]", "--8<--", "# --8<-- [end:x]"])

    assert [number for number, _ in swallowed_lines(page)] == [5]  # only the line after the block
    assert (3, "# --8<-- [start:name]") in include_targets(page)  # checked as a path: "no file"


def test_include_targets_finds_one_line_and_block_includes() -> None:
    page = "\n".join(
        [
            "```python",
            '--8<-- "app/main.py:lifespan"',
            "```",
            ';--8<-- "escaped/is/not/an/include.py"',
            'Prose that mentions --8<-- "app/x.py" is not an include.',
            "--8<--",
            "app/api/api.py:routers",
            ";commented/out.py",
            "--8<--",
        ]
    )
    assert include_targets(page) == [(2, "app/main.py:lifespan"), (7, "app/api/api.py:routers")]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("app/main.py:lifespan", None),
        ("app/main.py", None),
        ("app/main.py:10:20", "includes by line numbers"),
        ("app/nowhere.py:x", "no file"),
        ("app/main.py:nothing_here", 'section "nothing_here" is not in'),
    ],
)
def test_problems_with_each_kind_of_target(target: str, expected: str | None) -> None:
    problem = problems_with(target, SNIPPETS)
    if expected is None:
        assert problem is None
    else:
        assert problem is not None
        assert expected in problem


def test_a_section_without_its_end_marker_is_reported(tmp_path: Path) -> None:
    (tmp_path / "half.py").write_text("# --8<-- [start:opened]\nx = 1\n")
    problem = problems_with("half.py:opened", tmp_path)
    assert problem is not None
    assert "has no `[end:opened]` marker" in problem


def test_the_grammar_reads_section_markers_as_the_extension_does(tmp_path: Path) -> None:
    """Only a lower-case, unescaped marker opens a section; an escaped one is shown, one `;` shorter."""
    (tmp_path / "upper.py").write_text("a\n# --8<-- [START:foo]\nb\n# --8<-- [END:foo]\n")
    (tmp_path / "escaped.py").write_text("a\n# ;--8<-- [start:bar]\nb\n")

    assert 'section "foo" is not in upper.py' in (problems_with("upper.py:foo", tmp_path) or "")
    assert resolve("escaped.py", [tmp_path]).text == "a\n# --8<-- [start:bar]\nb\n"
    assert problems_with("escaped.py:bar", tmp_path) is not None


def test_a_marker_on_the_last_line_of_an_unclosed_fence_is_reported() -> None:
    page = "text\n```python\nx = 1\n# --8<-- [start:foo]\n"
    assert [number for number, _ in swallowed_lines(page)] == [4]


def test_a_fence_of_block_includes_is_a_fence_of_includes() -> None:
    assert fence_includes("--8<--\napp/main.py\napp/db/database.py\n--8<--\n") == ["app/main.py", "app/db/database.py"]
    assert fence_includes('--8<-- "app/main.py"\nprint(1)\n') is None
