"""http.File: lookup order, content types and pre-compressed variants (reference §3.3)."""
from __future__ import annotations

import gzip

import pytest

from pipyd.api.http_file import File
from pipyd.js.values import JSThrow


@pytest.fixture
def root(tmp_path, monkeypatch):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "index.html").write_text("<h1>hi</h1>")
    (tmp_path / "www" / "app.js").write_text("plain js")
    (tmp_path / "www" / "app.js.gz").write_bytes(gzip.compress(b"gz js"))
    (tmp_path / "www" / "only.css.gz").write_bytes(gzip.compress(b"body{}"))
    (tmp_path / "www" / "blob.bin").write_bytes(b"\x00")
    monkeypatch.setattr(File, "root", str(tmp_path))
    return tmp_path


def test_index_and_types(root):
    m = File.from_("/www").toMessage()
    assert m.head["headers"]["content-type"] == "text/html" and m.body.to_bytes() == b"<h1>hi</h1>"
    assert File.from_("www/blob.bin").toMessage().head["headers"]["content-type"] == "application/octet-stream"
    assert File.from_("/missing") is None
    with pytest.raises(JSThrow):
        File("/missing")


def test_gzip_variant_when_accepted(root):
    f = File.from_("/www/app.js")
    m = f.toMessage("gzip, deflate")
    assert m.head["headers"]["content-encoding"] == "gzip"
    assert gzip.decompress(m.body.to_bytes()) == b"gz js"
    plain = f.toMessage()
    assert "content-encoding" not in plain.head["headers"] and plain.body.to_bytes() == b"plain js"
    assert plain.head["headers"]["content-type"] == "application/javascript"


def test_only_compressed_is_decompressed(root):
    m = File.from_("/www/only.css").toMessage("br")
    assert m.body.to_bytes() == b"body{}" and m.head["headers"]["content-type"] == "text/css"


def test_paths_stay_in_root(root, tmp_path):
    assert File.from_("/../../etc/passwd") is None


def test_br_only_file_is_decompressed_for_a_client_without_br(tmp_path, monkeypatch):
    import brotli
    from pipyd.api import http_file
    (tmp_path / "page.html.br").write_bytes(brotli.compress(b"<p>hi</p>"))
    monkeypatch.setattr(http_file.File, "root", str(tmp_path))
    f = http_file.File.from_("/page.html")
    plain = f.toMessage("gzip")
    assert plain.body.to_bytes() == b"<p>hi</p>" and "content-encoding" not in plain.head["headers"]
    assert f.toMessage("gzip, br").head["headers"]["content-encoding"] == "br"
