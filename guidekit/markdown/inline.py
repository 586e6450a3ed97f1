"""Inline Markdown as the page readers here read it: code spans and whole words."""

import re

CODE_SPAN = re.compile(r"(`+)(?P<code>.+?)\1")
"""A code span: a run of backticks, the code, the same run again (`` `a` ``, ``` ``a ` b`` ```)."""


def whole_word(name: str, flags: int = 0) -> re.Pattern[str]:
    """`name` not inside a longer word or dotted name: "row" is not in "Narrow", `list` not in "Checklist"."""
    return re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)", flags)
