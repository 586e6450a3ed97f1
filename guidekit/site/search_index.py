"""The search index knows each identifier whole and in its parts.

Material's search worker splits indexed text and the typed query with the same `separator`
(mkdocs.yml), so one separator cannot do both: if it splits `SecretStr`, the query `SecretStr`
becomes `secret` and `str` and every page with a `str` competes with the one about `SecretStr`; if
it keeps the name whole, `str` alone no longer reaches the pages that only write `SecretStr` (a
query term matches the start of a token, so `secret` still would).
The separator in mkdocs.yml therefore keeps names whole (CamelCase, `a/b+c`, `@name`),
and `add_parts` gives every indexed section an extra field, `parts`, holding the pieces of each of
its names that the old splitting made (`secret`, `str`). The field weighs what body text weighs, so
a query for a part ranks pages about as it did when the parts were in the text (each part once per
section, and not at all where the section also writes it as a word); the whole name is a rare
token, so a query for it goes to the sections that write it.

Nothing here is a list of words: the parts come from the names the pages hold. MkDocs runs it after
Material's search plugin wrote the index (hooks/search_parts.py); Zensical writes its own index
for its own search (tests/test_two_builders.py names the difference).
"""

import json
import re
from pathlib import Path
from typing import Any

PARTS_FIELD = "parts"
"""The field of the index that holds the parts of each section's names."""

PARTS_BOOST = 1.0
"""The parts weigh what body text weighs (Material's `text` field has boost 1)."""

# Where a name splits into the names it is made of: `/`, `+` and `@` (`application/problem+json`
# -> application, problem, json; `@field_validator` -> field_validator); and where a CamelCase
# name splits into words, before each capital that starts a lower-case run (`TaskGroup` -> Task,
# Group; `HTTPBearer` -> HTTP, Bearer), the rule the separator itself used before it kept names whole.
_NAME_BOUNDARY = re.compile(r"[/@+]+")
_WORD_BOUNDARY = re.compile(r"(?!\b)(?=[A-Z][a-z])", re.ASCII)
# Material's tokenizer indexes the text between tags only.
_TAG = re.compile(r"<[^>]*>")


def tokens(text: str, separator: re.Pattern[str]) -> list[str]:
    """The tokens Material's tokenizer makes of an indexed field, before lower-casing."""
    found: list[str] = []
    for piece in _TAG.split(text):
        found.extend(token for token in separator.split(piece) if token)
    return found


def parts_of(token: str) -> list[str]:
    """The lower-cased names and words a name is made of, itself left out."""
    parts: dict[str, None] = {}
    for name in _NAME_BOUNDARY.split(token):
        parts.update(dict.fromkeys(part.lower() for part in (name, *_WORD_BOUNDARY.split(name)) if part))
    parts.pop(token.lower(), None)
    return list(parts)


def add_parts(index: dict[str, Any]) -> dict[str, Any]:
    """The index with a `parts` field on each section that writes a name with parts."""
    config = index["config"]
    # The separator as JavaScript reads it; the Python syntax of these constructs is the same.
    separator = re.compile(config["separator"], re.ASCII)
    for doc in index["docs"]:
        written = [token for field in ("title", "text") for token in tokens(doc.get(field, ""), separator)]
        # A part the section also writes as a word is indexed already; leaving it out keeps the index small.
        words = {token.lower() for token in written}
        parts = {part: None for token in written for part in parts_of(token) if part not in words}
        if parts:
            doc[PARTS_FIELD] = " ".join(parts)
    config["fields"][PARTS_FIELD] = {"boost": PARTS_BOOST}
    return index


def add_parts_to_file(path: Path) -> None:
    """Rewrite a built `search_index.json` with the parts field, as compact as Material writes it."""
    index = add_parts(json.loads(path.read_text(encoding="utf-8")))
    path.write_text(json.dumps(index, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
