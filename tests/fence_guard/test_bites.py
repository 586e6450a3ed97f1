"""Proof that the guard bites: each broken fence on a test page fails with a clear message.

Pages are written to a temporary directory; the real site is never touched. A page of
correct fences of every kind must pass, so a checker that rejects everything would fail
here too.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from guidekit.guard import check_coverage
from guidekit.guard.pages import guard_page, only_error
from guidekit.markdown.fences import parse_page
from guidekit.markdown.includes import resolve

GOOD_PAGE = """
# Every kind, correct

!!! tip "Inside an admonition"

    ```python
    total = sum([1, 2, 3])
    print(total)
    #> 6
    ```

=== "Tab"

    ~~~sql
    SELECT count(*) AS messages FROM messages;
    ~~~

<!-- guard: raises ValueError -->

```python
int("not a number")
```

```python
--8<-- "app/core/config.py:settings"
```

```python
type Point = tuple[float, float]
origin: Point = (0.0, 0.0)
print(origin)
#> (0.0, 0.0)
```

```bash
uv run pytest --no-cov -x snippets/tests
dbmate --url "$DATABASE_URL" status
```

```console
$ uv run ruff check snippets
All checks passed!
$ docker compose --file snippets/docker-compose.yml up --detach postgres
```

```toml
[tool.poetry]
packages = [{ include = "app" }]
```

```yaml
site_name: FastAPI + PostgreSQL Architecture Guide
strict: true
```

```json
{"title": "Not Found", "status": 404, "detail": "No message 42", "instance": "/api/v1/messages/42"}
```

```mermaid
flowchart LR
    points["points.py"] --> service["service.py"] --> table["table.py"]
```

<!-- guard: skip shows a fragment that only makes sense with the text around it -->

```python
...
```
"""


def test_correct_page_of_every_kind_passes(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    outcomes = guard_page(GOOD_PAGE, request, tmp_path)
    errors = [outcome.error for outcome in outcomes if outcome.error]
    assert errors == []
    kinds = [outcome.verdict.kind for outcome in outcomes if outcome.verdict]
    assert kinds == [
        "python", "sql", "python", "python-include", "python", "shell", "shell", "toml", "yaml", "json", "mermaid",
        "python",
    ]  # fmt: skip
    statuses = [outcome.verdict.status for outcome in outcomes if outcome.verdict]
    assert statuses[3] == "pending"  # the include waits for the run's coverage
    assert statuses[-1] == "opted out"
    assert statuses.count("verified") == len(statuses) - 2


def test_fences_are_found_at_any_depth_with_either_fence_character() -> None:
    fences = parse_page(GOOD_PAGE, Path("page.md"))
    assert [(fence.line, fence.language) for fence in fences[:3]] == [(6, "python"), (14, "sql"), (20, "python")]
    assert fences[0].body == "total = sum([1, 2, 3])\nprint(total)\n#> 6\n"
    assert fences[2].markers == {"raises": "ValueError"}


def test_broken_inline_example(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("```python\nvalue = undefined_name + 1\n```\n", request, tmp_path)
    assert error.startswith("page.md:1: ruff finds problems in this example")
    assert "page.md:2:9: F821" in error  # undefined name, on the page's line: ruff says so before the example runs


def test_example_that_fails_when_run(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error('```python\nnumbers = {"one": 1}\nprint(numbers["two"])\n```\n', request, tmp_path)
    assert "page.md:1: the example failed when run" in error
    assert "KeyError" in error


def test_wrong_printed_output(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("```python\nprint(2 + 2)\n#> 5\n```\n", request, tmp_path)
    assert "page.md:1" in error
    assert "#> 4" in error


def test_output_whose_print_never_ran(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    page = '```python\nlimit = 3\nif limit > 10:\n    print("too many")\n    #> too many\n```\n'
    error = only_error(page, request, tmp_path)
    assert error.startswith("page.md:5: the `print` above this `#>` output never ran")


def test_output_that_follows_no_print(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("```python\nanswer = 42\n#> 42\n```\n", request, tmp_path)
    assert error.startswith("page.md:3: `#>` output that follows no `print(...)`")


def test_declared_exception_not_raised(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    page = '<!-- guard: raises ValueError -->\n```python\nnumber = int("42")\n```\n'
    error = only_error(page, request, tmp_path)
    assert "says this raises ValueError, but it ran without an error" in error


def test_example_is_linted_with_the_projects_target_version(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The project targets Python 3.12 (pyproject.toml): a `type` statement is valid there, not in 3.10."""
    page = "```python\ntype Point = tuple[float, float]\nprint(Point.__value__)\n#> tuple[float, float]\n```\n"
    [outcome] = guard_page(page, request, tmp_path)
    assert outcome.error is None
    assert outcome.verdict is not None
    assert outcome.verdict.detail == "ran; output checked"


def test_printed_output_is_checked_at_the_services_line_length(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A page's example gets the service's line length (snippets/pyproject.toml), the column's width:
    a 73-character output line fits it, a 113-character one (which the root's 120 would let by) does not."""
    page = f"```python\nprint(list(range(20)))\n#> {list(range(20))}\n```\n"
    [outcome] = guard_page(page, request, tmp_path)
    assert outcome.error is None
    assert outcome.verdict is not None
    assert outcome.verdict.detail == "ran; output checked"
    too_wide = f"```python\nprint(list(range(30)))\n#> {list(range(30))}\n```\n"
    assert "E501 Line too long (113 > 79)" in only_error(too_wide, request, tmp_path)


def test_unformatted_example(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("```python\nnumbers = [1,2]\n```\n", request, tmp_path)
    assert "not formatted as `ruff format` would write it" in error


def test_unknown_snippet_section(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error('```python\n--8<-- "app/main.py:no_such_section"\n```\n', request, tmp_path)
    assert error == (
        'page.md:1: "app/main.py:no_such_section": section "no_such_section" is not in app/main.py '
        "(its sections: create_app, lifespan). Fix the name, or wrap the code in "
        "`--8<-- [start:no_such_section]` ... `--8<-- [end:no_such_section]`."
    )


def test_unknown_snippet_file_and_line_numbers(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    assert "no file app/nowhere.py" in only_error('```python\n--8<-- "app/nowhere.py"\n```\n', request, tmp_path)
    assert "line numbers" in only_error('```python\n--8<-- "app/main.py:3:9"\n```\n', request, tmp_path)


def test_included_line_that_no_test_runs(tmp_path: Path) -> None:
    """A real coverage run in a subprocess: one function called, the other never."""
    module = tmp_path / "module.py"
    module.write_text(
        textwrap.dedent(
            """\
            # --8<-- [start:shown]
            def called() -> int:
                return 1


            def never_called() -> int:
                total = 2
                return total
            # --8<-- [end:shown]

            called()
            """
        )
    )
    data_file = tmp_path / ".coverage.module"
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--data-file={data_file}", str(module)], check=True, cwd=tmp_path
    )
    region = resolve("module.py:shown", [tmp_path])
    miss = check_coverage.missed(region, check_coverage.executed_lines(check_coverage.saved_data(tmp_path)))
    assert miss is not None
    assert miss.describe(tmp_path) == "module.py lines 7-8"  # `def never_called` ran at import; its body never did


def test_a_multi_line_condition_that_ran_counts_as_run(tmp_path: Path) -> None:
    """Python reports a wrapped `if (` by the lines of its condition, never the `if` line itself.

    The guard maps run lines to the first line of their statement, as coverage's own report does;
    without that, every condition wrapped to fit the column reads as never run.
    """
    module = tmp_path / "module.py"
    module.write_text(
        textwrap.dedent(
            """\
            # --8<-- [start:shown]
            def check(first: int, second: int) -> bool:
                if (
                    first
                    >= second
                ):
                    return True
                return False
            # --8<-- [end:shown]

            check(1, 2)
            check(2, 1)
            """
        )
    )
    data_file = tmp_path / ".coverage.module"
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--data-file={data_file}", str(module)], check=True, cwd=tmp_path
    )
    region = resolve("module.py:shown", [tmp_path])
    assert check_coverage.missed(region, check_coverage.executed_lines(check_coverage.saved_data(tmp_path))) is None


def test_sql_typo(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("```sql\nSELEC id FROM messages;\n```\n", request, tmp_path)
    assert error.startswith("page.md:1: this SQL fails against the migrated test database")
    assert 'syntax error at or near "SELEC"' in error


def test_sql_against_a_column_the_schema_lacks(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("```sql\nSELECT subject FROM messages;\n```\n", request, tmp_path)
    assert 'column "subject" does not exist' in error


def test_included_sql_runs_unless_dbmate_applies_it(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    snippets = tmp_path / "snippets"
    (snippets / "db" / "migrations").mkdir(parents=True)
    (snippets / "db" / "migrations" / "1_broken.sql").write_text("SELEC 1;\n")
    (snippets / "report.sql").write_text("SELEC 1;\n")
    [outcome] = guard_page('```sql\n--8<-- "db/migrations/1_broken.sql"\n```\n', request, tmp_path, snippets)
    assert outcome.verdict is not None
    assert outcome.verdict.detail == "migrations and schema, applied and checked by the service tests"
    error = only_error('```sql\n--8<-- "report.sql"\n```\n', request, tmp_path, snippets)
    assert error.startswith("page.md:1: this SQL fails against the migrated test database")


def test_unknown_cli_flag(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("```bash\nuv run pytest --no-such-flag snippets/tests\n```\n", request, tmp_path)
    assert error.startswith("page.md:1: `pytest` has no flag `--no-such-flag`")


def test_unknown_subcommand_flag(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("```console\n$ dbmate new --force create_webhooks\n```\n", request, tmp_path)
    assert "`dbmate new` has no flag `--force`" in error


def test_unclassified_fence(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("```brainfuck\n+++.\n```\n", request, tmp_path)
    assert error.startswith("page.md:1: no checker verifies a fence of language `brainfuck`")
    assert "<!-- guard: skip <reason> -->" in error


def test_plain_text_fence(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    assert "language `text`" in only_error("```text\nsome words\n```\n", request, tmp_path)


def test_opt_out_without_reason(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("<!-- guard: skip -->\n```brainfuck\n+++.\n```\n", request, tmp_path)
    assert "needs a reason" in error


def test_json_the_service_never_produces(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    page = '```json\n{"success": true, "data": {}, "error": null}\n```\n'
    assert "matches no request or response model" in only_error(page, request, tmp_path)


def test_curl_to_a_route_the_service_lacks(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    page = "```bash\ncurl http://127.0.0.1:8000/api/v1/users\n```\n"
    assert only_error(page, request, tmp_path) == "page.md:1: the service has no route /api/v1/users"


def test_config_that_is_not_in_the_real_file(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    page = '```toml\n[project]\nname = "something-else"\n```\n'
    assert "not an excerpt" in only_error(page, request, tmp_path)
    shortened = '```toml\n[tool.pytest.ini_options]\ntestpaths = ["snippets/tests"]\n```\n'
    assert "not an excerpt" in only_error(shortened, request, tmp_path)  # lists are shown whole


def test_yaml_that_differs_from_the_file_it_shows(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    page = "```yaml\nsite_name: Another Guide\n```\n"
    assert only_error(page, request, tmp_path) == ("page.md:1: this YAML differs from mkdocs.yml; copy the real lines")


def test_included_file_that_no_test_reads(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    snippets = tmp_path / "snippets"
    (snippets / "tests").mkdir(parents=True)
    (snippets / "Makefile").write_text("test:\n\tpytest\n")
    error = only_error('```makefile\n--8<-- "Makefile"\n```\n', request, tmp_path, snippets)
    assert error.startswith("page.md:1: no test under snippets/tests reads Makefile")
    (snippets / "tests" / "test_make.py").write_text('MAKEFILE = "Makefile"\n')
    [outcome] = guard_page('```makefile\n--8<-- "Makefile"\n```\n', request, tmp_path, snippets)
    assert outcome.verdict is not None
    assert outcome.verdict.detail == "the file's section exists; Makefile is tested by tests/test_make.py"


def test_included_compose_service_without_a_healthcheck(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    snippets = tmp_path / "snippets"
    (snippets / "tests").mkdir(parents=True)
    (snippets / "tests" / "test_compose.py").write_text('COMPOSE = "docker-compose.yml"\n')
    (snippets / "docker-compose.yml").write_text(
        "services:\n"
        "  # --8<-- [start:worker]\n"
        "  worker:\n"
        "    image: app\n"
        "  # --8<-- [end:worker]\n"
        "  migrate:\n"
        "    image: app\n"
        '    restart: "no"\n'
    )
    page = '```yaml\n--8<-- "docker-compose.yml:worker"\n```\n'
    assert only_error(page, request, tmp_path, snippets) == (
        "page.md:1: compose services without a healthcheck: worker"
    )


def test_included_files_that_do_not_parse(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    snippets = tmp_path / "snippets"
    (snippets / "tests").mkdir(parents=True)
    (snippets / "tests" / "test_files.py").write_text('FILES = ["Dockerfile", "pyproject.toml"]\n')
    (snippets / "Dockerfile").write_text("FORM python:3.12-slim\n")
    (snippets / "pyproject.toml").write_text('[project]\nname = "app\n')
    dockerfile = only_error('```dockerfile\n--8<-- "Dockerfile"\n```\n', request, tmp_path, snippets)
    assert dockerfile == "page.md:1: `FORM` is not a Dockerfile instruction"
    toml = only_error('```toml\n--8<-- "pyproject.toml"\n```\n', request, tmp_path, snippets)
    assert toml.startswith("page.md:1: pyproject.toml is not valid TOML")


def test_mermaid_syntax_error(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    assert "unbalanced" in only_error("```mermaid\nflowchart LR\n    a[points --> b\n```\n", request, tmp_path)
    assert "not a Mermaid diagram type" in only_error("```mermaid\nflowchat LR\n```\n", request, tmp_path)
    page = "```mermaid\nsequenceDiagram\n    api->>db SELECT\n```\n"  # no colon before the message
    assert "Mermaid cannot parse this diagram" in only_error(page, request, tmp_path)


def test_mixed_include_and_inline_lines(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    page = '```python\n--8<-- "app/main.py:create_app"\napp = create_app()\n```\n'
    assert "mixes `--8<--` includes with inline lines" in only_error(page, request, tmp_path)


def test_command_on_a_path_that_does_not_exist(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    error = only_error("```bash\nuv run pytest snippets/tests/db/test_nothing.py\n```\n", request, tmp_path)
    assert error.startswith("page.md:1: `snippets/tests/db/test_nothing.py` does not exist")
    page = "```bash\nuv run pytest snippets/tests/db/test_migrations.py::test_that_is_not_there\n```\n"
    assert "has no test `test_that_is_not_there`" in only_error(page, request, tmp_path)


def test_curl_to_the_service_with_a_body_it_rejects(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    page = """```bash\ncurl -X POST http://127.0.0.1:8000/api/v1/messages -d '{"subject": "hi"}'\n```\n"""
    assert "matches no request or response model" in only_error(page, request, tmp_path)
    page = "```bash\ncurl -X DELETE http://127.0.0.1:8000/livez\n```\n"
    assert "/livez does not accept DELETE" in only_error(page, request, tmp_path)
