"""The fence guard: nothing on the site that did not run.

`test_guard.py` finds every fenced block on every page in `docs/` (backtick and tilde
fences, at any depth: admonitions, `pymdownx.details`, content tabs) and sends it to the
checker of its kind (`guard.classify`):

- `python-include` (`--8<-- "app/x.py:section"` lines only): the file and section exist,
  and every statement shown was executed by this test run (`check_coverage`).
- `include` of another language: the file and section exist; SQL from `db/` is applied
  by dbmate in the service tests; YAML/TOML/Dockerfile/dotenv/shell get their kind's check.
- `python`: ruff lint and format check, run with pytest-examples; `#>` output must match
  and must come from a `print` that ran (`check_python`).
- `sql`: run with psql against the migrated test database, rolled back (`check_sql`).
- `bash`/`console`: every command's subcommands and flags exist in the tool's `--help`
  (`check_shell`); `$ ` prompts and output lines are stripped like the copy button does.
- `dotenv`, `toml`, `yaml`, `ini`, `dockerfile` (`check_config`), `json`, `http`
  (`check_json`), folder trees (`check_tree`), `mermaid` (`check_mermaid`).

Any other fence fails, naming `page.md:line`, its language and what to do.

Markers: HTML comments on the line(s) right above a fence; invisible on the rendered page.

- `<!-- guard: skip <reason> -->`: opt out; the reason is required and printed in the totals.
- `<!-- guard: raises <ExceptionName> -->`: the Python block must raise this exception.
- `<!-- guard: output -->`: this block is the result of the SQL block above it; the guard
  compares it with what psql prints (aligned format, `(N rows)` footer included).
- `title="path"` on a config block names the real file it is an excerpt of.

The totals (found, verified, opted out by kind) are printed at the end of `uv run pytest`
in the "fence guard" section. `test_bites.py` proves each checker fails on broken pages.
"""
