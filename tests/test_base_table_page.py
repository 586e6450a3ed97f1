"""The method table on the BaseTable page is the code's own signatures and docstrings, checked on every run."""

import ast

from guidekit.paths import ROOT

BASE_TABLE = ROOT / "snippets" / "app" / "base" / "base_table.py"
PAGE = ROOT / "docs" / "database" / "base-table.md"
HEADER = "| Method | Returns | What it does |\n| --- | --- | --- |"


def parameter(arg: ast.arg, default: ast.expr | None = None, prefix: str = "") -> str:
    text = f"{prefix}{arg.arg}: {ast.unparse(arg.annotation)}" if arg.annotation else f"{prefix}{arg.arg}"
    return f"{text} = {ast.unparse(default)}" if default is not None else text


def signature(function: ast.AsyncFunctionDef) -> str:
    """`name(parameters)` as written in the source, without `self`."""
    args = function.args
    positional = args.posonlyargs + args.args
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    parts = [parameter(arg, default) for arg, default in zip(positional, defaults, strict=True)][1:]
    if args.vararg:
        parts.append(parameter(args.vararg, prefix="*"))
    elif args.kwonlyargs:
        parts.append("*")
    parts += [parameter(arg, default) for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True)]
    if args.kwarg:
        parts.append(parameter(args.kwarg, prefix="**"))
    return f"{function.name}({', '.join(parts)})"


def method_table() -> str:
    """The Markdown table of every public method of `BaseTable`, in source order."""
    module = ast.parse(BASE_TABLE.read_text())
    [base_table] = [node for node in module.body if isinstance(node, ast.ClassDef) and node.name == "BaseTable"]
    rows = [
        f"| `{signature(node)}` | `{ast.unparse(node.returns)}` | {(ast.get_docstring(node) or '').splitlines()[0]} |"
        for node in base_table.body
        if isinstance(node, ast.AsyncFunctionDef) and not node.name.startswith("_") and node.returns
    ]
    return "\n".join([HEADER, *rows])


def test_the_page_shows_every_method_as_the_code_declares_it() -> None:
    expected = method_table()

    assert "first_or_default(id: uuid.UUID, *, include_deleted: bool = False)" in expected
    assert expected in PAGE.read_text(), f"update the table in {PAGE.relative_to(ROOT)} to:\n\n{expected}\n"
