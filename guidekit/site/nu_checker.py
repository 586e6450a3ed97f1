"""The Nu Html Checker (`vnu.jar`, the W3C validator's engine) over a built site, and what it may report.

The checker comes from npm (`vnu-jar`, pinned below) and runs on the machine's Java. It is fetched
into `TOOLS` on first use, once per checkout. Errors of the theme's own templates are not ours to
fix (overriding a template means carrying a copy of it through every theme upgrade): `THEME_ERRORS`
lists each one by message and markup, with the template it comes from and why it stays. Every other error
fails tests/test_html_validity.py, and so does an entry of `THEME_ERRORS` that matched nothing, so
the list cannot outlive the errors it excuses.
"""

import json
import re
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from guidekit.paths import TOOLS

VNU_VERSION = "26.9.27"
"""The `vnu-jar` release on npm; its checker is the one the issue's figures came from (26.9)."""
VNU_FOLDER = TOOLS / f"vnu-jar-{VNU_VERSION}"
VNU_JAR = VNU_FOLDER / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


@dataclass(frozen=True)
class Allowance:
    """An error the theme's templates make on every page, matched by its message and its markup.

    The messages are generic (a tabbed block's label or a task list's checkbox of ours can get the
    same one), so `markup` must also be found in the part of the source the checker marks as the
    error's (whitespace collapsed): the template's own element, as the theme writes it. Not anywhere
    in the extract: the theme's element may stand just before a broken one of ours.
    """

    name: str
    """What the error is, in a few words, for the summary line."""
    message: re.Pattern[str]
    markup: re.Pattern[str]
    template: str
    """The theme template (under `material/templates/`) that writes the markup."""
    reason: str


THEME_ERRORS = [
    Allowance(
        "autocomplete on a checkbox",
        re.compile(r"^Attribute “autocomplete” is only allowed when the input type is "),
        re.compile(
            r'<input class="md-toggle" data-md-toggle="(drawer|search)" type="checkbox" id="__\1" autocomplete="off">'
        ),
        "base.html",
        "the drawer and search toggles are checkboxes with autocomplete=off, which keeps Firefox "
        "from restoring their state on back navigation; the attribute is invalid on a checkbox",
    ),
    Allowance(
        "empty tabindex on a section label",
        re.compile(r"^Bad value “” for attribute “tabindex” on element “label”"),
        re.compile(r'<label class="md-nav__link[ \w-]*" for="(__nav_[\d_]+)" id="\1_label" tabindex="">'),
        "partials/nav-item.html",
        'a section\'s label gets tabindex="{{ tabindex }}", which is empty for a section with '
        "navigation.sections on; an empty tabindex is ignored by browsers",
    ),
    Allowance(
        "label for the missing __toc control",
        re.compile(r"^The value of the “for” attribute of the “label” element must be the ID of a non-hidden"),
        re.compile(r'<label class="md-nav__title" for="__toc">'),
        "partials/toc.html",
        "the table of contents' title is a label for the `__toc` checkbox, which nav-item.html "
        "writes only for a page that is not a section's index page (navigation.indexes)",
    ),
]


@dataclass(frozen=True)
class Problem:
    """One error the checker reported: the page (its path in the site), the line and the message."""

    page: str
    line: int
    message: str
    extract: str
    """The source around the error."""
    highlight: str
    """The part of `extract` the checker marks as the error's (`hiliteStart`, `hiliteLength`)."""

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.message}\n    {' '.join(self.extract.split())[:160]}"


class CheckerMissingError(Exception):
    """Java, npm or the checker is not there; the message says which and how to get it."""


def vnu_jar(folder: Path = VNU_FOLDER, seconds: float = 300) -> Path:
    """The pinned checker, fetched from npm into `folder` on first use (into a temporary folder,
    then renamed, so an interrupted download leaves nothing half-written behind)."""
    jar = folder / VNU_JAR.relative_to(VNU_FOLDER)
    if jar.is_file():
        return jar
    npm = shutil.which("npm")
    if npm is None:
        raise CheckerMissingError(f"no npm to fetch vnu-jar@{VNU_VERSION} with (install Node.js and npm)")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as partial:
        # --ignore-scripts: its postinstall script downloads a Java runtime; the machine's Java is used.
        command = [npm, "install", "--ignore-scripts", "--no-save", "--no-audit", "--no-fund"]
        command += ["--prefix", partial, f"vnu-jar@{VNU_VERSION}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds)
        if done.returncode != 0:
            raise CheckerMissingError(f"`npm install vnu-jar@{VNU_VERSION}` failed:\n{done.stdout}{done.stderr}")
        if folder.exists() and not jar.is_file():
            # A folder left without its jar (deleted by hand, or a package layout that changed).
            shutil.rmtree(folder, ignore_errors=True)
        try:
            Path(partial).rename(folder)
        except OSError:  # another process finished first: its jar is as good as ours
            if not jar.is_file():
                raise CheckerMissingError(f"could not put the checker in {folder}: delete that folder") from None
        else:
            Path(partial).mkdir()  # for TemporaryDirectory's clean-up
    return jar


def check_site(site: Path, seconds: float = 600) -> list[Problem]:
    """Every error the checker finds in the site's HTML files, in one run of the checker.

    `seconds` bounds the fetch (on first use) and the run together; a caller under a time limit
    passes less than its limit, so a slow registry or machine fails with this module's message.
    """
    deadline = time.monotonic() + seconds
    java = shutil.which("java")
    if java is None:
        raise CheckerMissingError("no Java for the Nu Html Checker: `apt-get install -y default-jre-headless`")
    version = subprocess.run([java, "-version"], capture_output=True, text=True, check=False, timeout=30)
    require_java(version.stderr + version.stdout)
    jar = vnu_jar(seconds=deadline - time.monotonic())
    command = [java, "-jar", str(jar), "--format", "json", "--errors-only", "--skip-non-html", str(site)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=deadline - time.monotonic())
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"the Nu Html Checker (fetch and run) did not finish within {seconds:.0f} s") from None
    # Exit code 1 means "errors found"; the report is on stderr either way.
    try:
        report = json.loads(done.stderr)
    except json.JSONDecodeError as error:
        message = f"the Nu Html Checker did not report in JSON (exit {done.returncode}):\n{done.stderr}"
        raise RuntimeError(message) from error
    problems = []
    for message in report["messages"]:
        if message["type"] == "info":  # warnings, which --errors-only leaves out anyway
            continue
        # An error in a page, or a "non-document-error": a file the checker could not read.
        page = page_of(message.get("url", ""), site)
        extract = message.get("extract", "")
        highlight = highlighted(extract, message.get("hiliteStart", 0), message.get("hiliteLength", 0))
        problems.append(Problem(page, message.get("lastLine", 0), message["message"], extract, highlight))
    return problems


JAVA_NEEDED = 17
"""The oldest Java that runs the pinned jar (most of its classes are built for Java 17)."""


def java_major(report: str) -> int:
    """The major version in `java -version`'s report: "1.8.0_392" is 8, "17.0.15" is 17."""
    found = re.search(r'version "(\d+)(?:\.(\d+))?', report)
    if found is None:
        raise CheckerMissingError(f"cannot read the Java version from `java -version`:\n{report}")
    major = int(found[1])
    return int(found[2] or 0) if major == 1 else major


def require_java(report: str) -> None:
    """Raise `CheckerMissingError` when `java -version` reports a Java older than the jar needs."""
    if (major := java_major(report)) < JAVA_NEEDED:
        raise CheckerMissingError(f"Java {major} is older than the checker's {JAVA_NEEDED}: install a newer Java")


def page_of(url: str, site: Path) -> str:
    """Where a message points: a file's path in the site, or the path as reported when it is outside."""
    path = unquote(url.removeprefix("file:"))
    if not path:
        return "?"
    resolved = Path(path).resolve()
    return resolved.relative_to(site.resolve()).as_posix() if resolved.is_relative_to(site.resolve()) else path


def highlighted(extract: str, start: int, length: int) -> str:
    """The part of an extract the checker marks. Its offsets count UTF-16 code units (Java's strings),
    so a character outside the BMP before the mark counts twice; no mark is an empty part (it excuses
    nothing)."""
    units = extract.encode("utf-16-le")
    return units[2 * start : 2 * (start + length)].decode("utf-16-le", errors="replace")


def allowance_for(problem: Problem) -> Allowance | None:
    """The entry of `THEME_ERRORS` that excuses an error (its message, in the theme's markup), if one does."""
    marked = " ".join(problem.highlight.split())
    return next(
        (
            allowed
            for allowed in THEME_ERRORS
            if allowed.message.search(problem.message) and allowed.markup.search(marked)
        ),
        None,
    )


def summary(pages: int, ours: list[Problem], allowed: Counter[Allowance]) -> str:
    """The one line the test prints: pages checked, errors of ours, theme errors allowed."""
    by_message = ", ".join(f"{entry.name} ({entry.template}) {count}" for entry, count in allowed.items())
    return (
        f"Nu checker: {pages} pages, {len(ours)} errors of ours, {allowed.total()} theme errors allowed "
        f"(by message: {by_message or 'none'})"
    )
