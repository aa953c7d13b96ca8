"""Static files get names that change with their content, copied with a gzipped sibling."""

import gzip
import re

from portal.assets import build, fingerprinted


def test_the_name_carries_a_hash_of_the_content():
    name = fingerprinted("css/portal.css", b"body { color: black }")
    assert re.fullmatch(r"css/portal\.[0-9a-f]{12}\.css", name), name
    assert fingerprinted("css/portal.css", b"body { color: black }") == name


def test_a_changed_file_gets_a_new_name():
    before = fingerprinted("css/portal.css", b"body { color: black }")
    after = fingerprinted("css/portal.css", b"body { color: navy }")
    assert before != after
    assert after.startswith("css/portal.") and after.endswith(".css")


def test_build_copies_each_file_under_its_hashed_name_with_a_gzip_beside_it(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    css = b"body { margin: 0 }\n" * 50
    (source / "css" / "site.css").write_bytes(css)
    (source / "tiny.svg").write_bytes(b"<svg/>")

    manifest = build(source, target)

    assert set(manifest) == {"css/site.css", "tiny.svg"}
    copy = target / manifest["css/site.css"]
    assert copy.read_bytes() == css
    assert gzip.decompress(copy.with_name(copy.name + ".gz").read_bytes()) == css
    # Six bytes do not shrink: no .gz, the plain copy only.
    tiny = target / manifest["tiny.svg"]
    assert tiny.read_bytes() == b"<svg/>" and not tiny.with_name(tiny.name + ".gz").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["build", "static"]  # no temporary file left


def test_a_rebuild_after_an_edit_adds_the_new_name_and_keeps_the_old(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    source.mkdir()
    (source / "site.css").write_bytes(b"a { color: red }")
    first = build(source, target)["site.css"]
    (source / "site.css").write_bytes(b"a { color: green }")
    second = build(source, target)["site.css"]

    assert first != second
    # The old name keeps its old content: a page still cached by a browser finds the file it asked for.
    assert (target / first).read_bytes() == b"a { color: red }"
    assert (target / second).read_bytes() == b"a { color: green }"


def test_every_stylesheet_closes_each_block_it_opens():
    """A missing `}` silently swallows the rules after it into the block before (an @media query, say)."""
    from tests.support.paths import ROOT

    for path in sorted((ROOT / "portal" / "static" / "css").glob("*.css")):
        text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)  # comments
        text = re.sub(r"\"[^\"\n]*\"|'[^'\n]*'", "", text)  # strings (content: "…")
        depth = 0
        for number, line in enumerate(text.splitlines(), 1):
            depth += line.count("{") - line.count("}")
            assert depth >= 0, f"{path.name}: a `}}` without its `{{` by line {number}"
        assert depth == 0, f"{path.name}: {depth} block(s) left open"
