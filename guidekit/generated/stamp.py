"""Each page's "verified" stamp, from the run's record (`.record/tested-with.json`, `guidekit.run_record`).

The rules, for a page `docs/x.md` of the project at `root`:

- its files are the page itself, every file it includes (`--8<--`) and every module whose
  docstrings it renders (`::: app.x.Y`);
- no record: "Not verified: no test run is recorded";
- no run in the record covered the page: "Not verified: no recorded test run covered this page";
- its last run did not pass: "Not verified: the last test run of this page failed" (or "was
  interrupted", "did not finish": killed, or still running, or "ran no test": every test skipped);
- a file of the page differs from what that run saw (or was not in it): "Not verified since this
  page's code changed", naming the first such file;
- otherwise "Verified <date of the run's start, UTC> with <package> <version>, ..." where the
  packages are the distributions the page's Python files import (the service's own modules and
  the standard library aside), as the run read them and at the versions it recorded, "and PostgreSQL <version>" when
  the page's code touches the database (`run_record.touches_database`). A page that includes no
  file says what the run checked instead: "Verified <date>: no service code on this page; its
  fences and links passed".
"""

from pathlib import Path

from guidekit import run_record


def stamp_text(page: str, root: Path) -> str:
    """The stamp of a page (`docs/x.md`) as plain text (llms.txt's page descriptions use it as it is)."""
    recorded = run_record.read(root)
    if recorded is None:
        return "Not verified: no test run is recorded (run `uv run pytest`, then build the site again)."
    started = recorded.get("pages", {}).get(page)
    run = recorded.get("runs", {}).get(started)
    if started is None or run is None:
        return "Not verified: no recorded test run covered this page."
    if run["outcome"] != "passed":
        endings = {"interrupted": "was interrupted", "running": "did not finish", "empty": "ran no test"}
        ended = endings.get(run["outcome"], "failed")
        return f"Not verified: the last test run of this page {ended}."
    files = run_record.page_files(page, root)
    changed = [file for file in files if run["files"].get(file) != run_record.digest(root / file)]
    if changed:
        return f"Not verified since this page's code changed (`{changed[0]}` differs from what the last run tested)."
    day = started[:10]
    if len(files) == 1:
        return f"Verified {day}: no service code on this page; its fences and links passed."
    # The run's own reading of the files' imports: the files are the same (no file changed).
    imported = sorted({name for file in files for name in run.get("imports", {}).get(file, [])})
    versions = [f"{name} {run['packages'].get(name, '(version not recorded)')}" for name in imported]
    if run_record.touches_database(files, root):
        versions.append(f"PostgreSQL {run['postgresql'] or '(not recorded by that run)'}")
    if not versions:
        return f"Verified {day} (its code imports only the standard library and the service)."
    listed = versions[0] if len(versions) == 1 else ", ".join(versions[:-1]) + f" and {versions[-1]}"
    return f"Verified {day} with {listed}."


def stamp_markdown(page: str, root: Path) -> str:
    """The stamp as the paragraph the extension adds at the page's end: small and muted
    (`.page-stamp` in theme-fixes.css), and left out of the search index."""
    return f"{stamp_text(page, root)}\n{{ .page-stamp data-search-exclude }}"
