"""`base-table-methods`: the public methods of `BaseTable`, with signatures and docstring summaries, from its source."""

import ast
from pathlib import Path

from guidekit.generated.tables import table

BASE_TABLE_SOURCE = Path("snippets", "app", "base", "base_table.py")
"""Relative to the project's root."""


def signature(node: ast.AsyncFunctionDef | ast.FunctionDef) -> str:
    """The parameters after `self`, written as in the source, PEP 8 spacing around defaults."""
    args = node.args
    positional = args.posonlyargs + args.args
    first_default = len(positional) - len(args.defaults)
    parts: list[str] = []

    def one(arg: ast.arg, default: ast.expr | None) -> str:
        text = arg.arg + (f": {ast.unparse(arg.annotation)}" if arg.annotation else "")
        if default is not None:
            text += f" = {ast.unparse(default)}" if arg.annotation else f"={ast.unparse(default)}"
        return text

    for index, arg in enumerate(positional):
        parts.append(one(arg, args.defaults[index - first_default] if index >= first_default else None))
    if args.vararg:
        parts.append("*" + one(args.vararg, None))
    elif args.kwonlyargs:
        parts.append("*")
    parts += [one(arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    if args.kwarg:
        parts.append("**" + one(args.kwarg, None))
    return ", ".join(part for part in parts if part not in {"self", "cls"})


def docstring_summary(docstring: str) -> str:
    """A docstring's summary: its first paragraph (up to the first blank line) on one line.

    The service's summaries run over as many lines as its width needs, so the first line alone
    could be half a sentence.
    """
    return " ".join(docstring.partition("\n\n")[0].split())


def generate(args: list[str], root: Path) -> str:
    """The method table of `BaseTable`: call, return type and the summary (first paragraph) of each docstring."""
    module = ast.parse((root / BASE_TABLE_SOURCE).read_text(encoding="utf-8"))
    cls = next(node for node in module.body if isinstance(node, ast.ClassDef) and node.name == "BaseTable")
    rows = []
    for node in cls.body:
        if not isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) or node.name.startswith("_"):
            continue
        arguments = signature(node)
        returns = ast.unparse(node.returns) if node.returns else "None"
        summary = docstring_summary(ast.get_docstring(node) or "")
        call = f"`{'await ' if isinstance(node, ast.AsyncFunctionDef) else ''}{node.name}({arguments})`"
        rows.append((call, f"`{returns}`", summary))
    return table(rows, ("Method", "Returns", "What it does"))
