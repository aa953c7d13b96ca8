"""Static files for production: content-hashed names, cached for a year, gzipped, served by WhiteNoise.

`url_for('static', filename='css/portal.css')` gives `/static/css/portal.<hash>.css`, a name that changes whenever
the file does, so browsers may keep it for a year. The hashed copies and their `.gz` siblings are written once into
instance/static (at image build time in Docker: `python -m portal.assets`; on the first start elsewhere). Plain names
such as `/static/css/portal.css` are still served by Flask, revalidated on each use.
"""

import gzip
import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath

from flask import Flask
from whitenoise import WhiteNoise

from portal.config import INSTANCE_DIR

STATIC_DIR = Path(__file__).resolve().parent / "static"
BUILD_DIR = INSTANCE_DIR / "static"
IMMUTABLE = "public, max-age=31536000, immutable"


def fingerprinted(name: str, content: bytes) -> str:
    """`css/portal.css` → `css/portal.3f2a9c1b5d7e.css`: the name carries a hash of the content."""
    path = PurePosixPath(name)
    digest = hashlib.sha256(content).hexdigest()[:12]
    return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))


def build(source: Path = STATIC_DIR, target: Path = BUILD_DIR) -> dict[str, str]:
    """Copy each file under `source` to `target` under its hashed name, with a `.gz` when that is smaller;
    return {name: hashed name}. A name already there is left alone: its content cannot differ."""
    manifest = {}
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        name = path.relative_to(source).as_posix()
        content = path.read_bytes()
        manifest[name] = fingerprinted(name, content)
        copy = target / manifest[name]
        if copy.exists():
            continue
        packed = gzip.compress(content, compresslevel=9, mtime=0)
        if len(packed) < 0.95 * len(content):
            _write(copy.with_name(copy.name + ".gz"), packed, target.parent)
        # The copy itself last: once it exists the set is complete for a process starting alongside.
        _write(copy, content, target.parent)
    return manifest


def _write(path: Path, data: bytes, scratch: Path) -> None:
    """Write through a temporary file in `scratch` renamed into place, so no reader ever sees half a file
    (and WhiteNoise, listing the target directory as another process starts, never sees the temporary one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=scratch, prefix=".static-")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    # Readable by the unprivileged user the image runs as, which did not build it.
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def init_app(app: Flask) -> None:
    manifest = build()

    def hashed_name(endpoint: str, values: dict) -> None:
        """Point url_for('static', …) at the hashed copy of the file."""
        if endpoint == "static" and values.get("filename") in manifest:
            values["filename"] = manifest[values["filename"]]

    app.url_defaults(hashed_name)
    security_headers = _security_headers(app)

    def add_headers(headers, path: str, url: str) -> None:
        """A hashed name never changes its content: cached for a year (WhiteNoise's own default is ten)."""
        headers["Cache-Control"] = IMMUTABLE
        for name, value in security_headers:
            headers[name] = value

    # Wrapping wsgi_app puts WhiteNoise before Flask's own static route, which serves only the plain names.
    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=BUILD_DIR,
        prefix=app.static_url_path,
        max_age=None,
        allow_all_origins=False,  # nothing here is meant for other sites
        add_headers_function=add_headers,
    )


def _security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers portal.web puts on every Flask response, for the files WhiteNoise answers before Flask runs."""
    from portal.web import set_security_headers

    with app.app_context():
        response = set_security_headers(app.response_class(mimetype="text/css"))
    return [(name, value) for name, value in response.headers.items() if name not in ("Content-Type", "Content-Length")]


if __name__ == "__main__":
    build()
