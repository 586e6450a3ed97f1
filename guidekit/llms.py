"""llms.txt's sections: one per top-level nav entry, pages in nav order, each with its "verified" stamp.

The nav is the one list of pages; typing it again under `llmstxt: sections:` would drift. Neither
builder runs code between reading `mkdocs.yml` and handing the plugin its config (Zensical runs no
hooks), so `mkdocs.yml` computes the sections while it loads: both builders read it with PyYAML's
`yaml.Loader` (the unsafe one; FullLoader and SafeLoader refuse the tag), which calls
`!!python/object/apply:guidekit.llms.sections_from_nav []`.
"""

import io
import sys
from pathlib import Path
from types import FrameType

import yaml

from guidekit.generated.stamp import stamp_text
from guidekit.markdown.nav import sections_from, site_config
from guidekit.paths import MKDOCS_YML


def loading_file() -> Path:
    """The YAML file being loaded, found up the call stack: the name of the PyYAML loader's stream
    (MkDocs hands it the open file), or else the open file a caller holds (Zensical reads it first);
    this checkout's `mkdocs.yml` when the YAML came from a string."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        for value in frame.f_locals.values():
            if isinstance(value, yaml.reader.Reader | io.IOBase):
                name = getattr(value, "name", "")
                if isinstance(name, str) and Path(name).is_file():
                    return Path(name)
        frame = frame.f_back
    return MKDOCS_YML  # read from a string (a test reading the config): this checkout's


def sections_from_nav() -> dict[str, list[dict[str, str]]]:
    """`{title: [{page: its stamp}]}` for each top-level entry of the nav of the `mkdocs.yml` being
    loaded (a copy's, too): both builders write the description after the page's link in llms.txt."""
    config_file = loading_file()
    root = config_file.parent
    return {
        title: [{page: stamp_text(f"docs/{page}", root)} for page in pages]
        for title, pages in sections_from(site_config(config_file)["nav"]).items()
    }
