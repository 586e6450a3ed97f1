"""Python-Markdown extensions that make the site: both builders (MkDocs and Zensical) run them.

`mkdocs.yml` lists each under `markdown_extensions:` by its dotted path. Each is a thin adapter:
the logic is in `guidekit.markdown.includes`, `guidekit.generated`, `guidekit.proofs` and
`guidekit.diagrams`; `page.py` tells an extension which page it is converting.
"""
