import re

import pytest

from pipyd.context import Context
from pipyd.events import Data, MessageEnd, StreamEnd
from pipyd.js.values import JSArray, JSObject, JSThrow, type_error, undefined
from pipyd.registry import lookup

from . import capture_log, msg, run  # noqa: F401 (fixture)
from pipyd.filters.debug import hex_table, to_json

TS = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[INF\] "


def test_dump_format(capture_log):
    ctx = Context([{}])
    events = [*msg(JSObject(method="GET", headers=JSObject(a="b")), b"hi\n", tail=None),
              StreamEnd("ReadError")]
    out = run([("dump", "tag")], events, ctx)
    assert len(out) == 4  # passes everything through
    lines = capture_log.getvalue().splitlines()
    p = f"[dump] [context={ctx.id}] [tag] "
    assert re.fullmatch(TS + re.escape(p + 'MessageStart {"method":"GET","headers":{"a":"b"}}'),
                        lines[0])
    assert lines[1].endswith(p + "Data [size = 3]")
    assert lines[2] == "00000000  68 69 0a" + " " * 42 + "|hi.|"
    assert lines[3].endswith(p + "MessageEnd null")
    assert lines[4].endswith(p + "StreamEnd ReadError")


def test_dump_without_tag_and_with_function_tag(capture_log):
    ctx = Context([{}])
    run([("dump",)], [StreamEnd()], ctx)
    run([("dump", lambda: "dyn")], [StreamEnd()], ctx)
    lines = capture_log.getvalue().splitlines()
    assert lines[0].endswith(f"[dump] [context={ctx.id}] StreamEnd")
    assert lines[1].endswith(f"[dump] [context={ctx.id}] [dyn] StreamEnd")


def test_dump_bypasses_threshold(capture_log):
    from pipyd import log
    log.configure(level="info")  # hides [ERR] but not dump
    try:
        run([("dump",)], [StreamEnd()])
    finally:
        log.configure(level="error")
    assert "StreamEnd" in capture_log.getvalue()


def test_dump_bad_argument():
    with pytest.raises(JSThrow):
        lookup("dump").configure(None, JSObject())


def test_hex_table():
    b = bytes(range(0x41, 0x41 + 18))
    assert hex_table(b) == [
        "00000000  41 42 43 44 45 46 47 48  49 4a 4b 4c 4d 4e 4f 50  |ABCDEFGHIJKLMNOP|",
        "00000010  51 52" + " " * 45 + "|QR|",
    ]


@pytest.mark.parametrize("value, text", [
    (None, "null"), (undefined, "null"), (True, "true"), (1, "1"), (1.0, "1"), (0.5, "0.5"),
    (float("nan"), "null"), ('a"\n', '"a\\"\\n"'), (JSArray([1, undefined]), "[1,null]"),
    (JSObject(a=1, u=undefined, f=lambda: 1), '{"a":1}'),
])
def test_to_json(value, text):
    assert to_json(value) == text


def test_print_logs_lines(capture_log):
    out = run([("print",)], [Data("line1\nli"), Data("ne2\npartial"), MessageEnd(), StreamEnd()])
    assert len(out) == 4
    lines = [re.sub(TS, "", x) for x in capture_log.getvalue().splitlines()]
    assert lines == ["line1", "line2", "partial"]


def test_dummy_swallows_everything():
    assert run([("dummy",)], [*msg({}, b"x"), StreamEnd()]) == []


def test_tee_writes_data_creates_dirs_and_truncates(tmp_path):
    path = tmp_path / "a" / "b" / "out.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"old content")
    path.unlink()
    out = run([("tee", str(path))], [*msg({}, b"ab", b"cd"), Data("e"), StreamEnd()])
    assert len(out) == 6 and path.read_bytes() == b"abcde"
    run([("tee", str(path))], [Data("new"), StreamEnd()])
    assert path.read_bytes() == b"new"


def test_tee_filename_function_and_cwd_relative(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run([("tee", lambda: "dir/f.log")], [Data("x"), StreamEnd()])
    assert (tmp_path / "dir" / "f.log").read_bytes() == b"x"


def test_tee_stdout(capsys):
    run([("tee", "-")], [Data("to stdout"), StreamEnd()])
    assert capsys.readouterr().out == "to stdout"


def test_tee_errors(tmp_path, capture_log):
    (tmp_path / "file").write_text("")
    out = run([("tee", str(tmp_path / "file" / "sub"))], [Data("x"), StreamEnd()])
    assert out == [("D", b"x"), ("SE", "")]
    assert "[tee] cannot open file" in capture_log.getvalue()

    def bad():
        raise type_error("no name")

    assert run([("tee", bad)], [Data("y")]) == [("D", b"y")]
    with pytest.raises(JSThrow):
        lookup("tee").configure(None, 3)
    with pytest.raises(JSThrow):
        lookup("tee").configure(None)
