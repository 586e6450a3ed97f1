"""A built site served on 127.0.0.1 the way GitHub Pages serves it: text types gzip-compressed.

The benchmarks (scripts/bench_site.py, scripts/bench_lighthouse.py) measure pages as readers get
them, so the server compresses what Pages compresses when the client accepts gzip.
"""

import argparse
import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO

COMPRESSIBLE = {".html", ".css", ".js", ".json", ".svg", ".xml", ".txt", ".map"}
"""The file types sent compressed (text; images and fonts are compressed already)."""


class PagesLikeHandler(SimpleHTTPRequestHandler):
    """Static files, gzip-compressed for clients that accept it, as GitHub Pages serves them."""

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the figures are the output."""

    def send_head(self) -> BinaryIO | None:
        """Serve the gzip-compressed body when the client asks for it and the type compresses."""
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path /= "index.html"
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (wants_gzip and path.is_file() and path.suffix in COMPRESSIBLE):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None


class UncompressedHandler(PagesLikeHandler):
    """Static files as they are on disk: the weight before compression."""

    def send_head(self) -> BinaryIO | None:
        """The stdlib's plain file serving."""
        return SimpleHTTPRequestHandler.send_head(self)


@contextmanager
def served(site_dir: Path, *, compress: bool = True) -> Iterator[str]:
    """Serve a folder on a free port of 127.0.0.1 from a thread of this process; yields its base URL.

    A thread, so not for a test process that drives Playwright (see `guidekit.site.build.serve`).
    """
    handler = PagesLikeHandler if compress else UncompressedHandler
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    """`python -m guidekit.site.pages_server DIR`: serve a built site until stopped; prints its URL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site_dir", type=Path)
    arguments = parser.parse_args()
    with served(arguments.site_dir) as url:
        print(url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":
    main()
