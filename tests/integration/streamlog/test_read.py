"""§5 reads: by index, range, page, .length, HEAD, NDJSON, selectors, long-poll."""
import json
import threading
import time

import pytest


def _fill(server, stream, n, **headers):
    for i in range(n):
        server.post(stream, str(i), **headers)


def test_get_event_by_index(server, stream):
    server.post(stream, "hello", Content_Type="text/plain", Event_Type="greet")
    status, h, body = server.get(stream + "[0]")
    assert status == 200 and body == b"hello"
    assert h["content-type"] == "text/plain" and h["event-index"] == "0"
    assert h["event-type"] == "greet" and int(h["event-timestamp"]) > 0


@pytest.mark.parametrize("i,expected", [(-1, b"4"), (-5, b"0"), (2, b"2")])
def test_negative_and_positive_indexes(server, stream, i, expected):
    _fill(server, stream, 5)
    assert server.get(f"{stream}[{i}]")[2] == expected


@pytest.mark.parametrize("i", [5, 100, -6])
def test_index_past_the_end_is_404_json(server, stream, i):
    _fill(server, stream, 5)
    status, h, body = server.get(f"{stream}[{i}]")
    assert status == 404 and set(json.loads(body)) == {"error", "detail"}


def test_index_of_unknown_stream_is_404(server, stream):
    assert server.get(stream + "[0]")[0] == 404


@pytest.mark.parametrize("rng,expected", [
    ("[1:3]", [1, 2]), ("[:2]", [0, 1]), ("[3:]", [3, 4]), ("[-2:]", [3, 4]),
    ("[:-3]", [0, 1]), ("[2:2]", []), ("[4:1]", []), ("[:]", [0, 1, 2, 3, 4]),
])
def test_ranges(server, stream, rng, expected):
    _fill(server, stream, 5)
    assert [e["index"] for e in server.json(stream + rng)] == expected


def test_event_objects_have_all_fields(server, stream):
    server.post(stream, '{"a":1}', Content_Type="application/json", Event_Type="t")
    ev = server.json(stream)[0]
    assert set(ev) == {"index", "timestamp", "eventType", "contentType", "data"}
    assert ev["data"] == {"a": 1} and ev["eventType"] == "t"


def test_text_data_is_a_string(server, stream):
    server.post(stream, "plain", Content_Type="text/plain")
    assert server.json(stream)[0]["data"] == "plain"


def test_non_utf8_data_is_base64(server, stream):
    server.post(stream, b"\xff\xfe", Content_Type="application/octet-stream")
    ev = server.json(stream)[0]
    assert ev["encoding"] == "base64" and ev["data"] == "//4="


def test_from_and_limit_page(server, stream):
    _fill(server, stream, 10)
    status, h, body = server.get(stream + "?from=3&limit=4")
    assert [e["index"] for e in json.loads(body)] == [3, 4, 5, 6]
    assert h["stream-next-index"] == "7"


def test_paging_walks_the_whole_stream(server, stream):
    _fill(server, stream, 7)
    seen, at = [], 0
    while True:
        _, h, body = server.get(f"{stream}?from={at}&limit=3")
        page = json.loads(body)
        if not page:
            break
        seen += [e["index"] for e in page]
        at = int(h["stream-next-index"])
    assert seen == list(range(7))


def test_unknown_stream_reads_empty(server, stream):
    status, h, body = server.get(stream)
    assert status == 200 and json.loads(body) == [] and h["stream-next-index"] == "0"


def test_page_is_at_most_1000_events(server, stream):
    parts = "".join(f"--b\n\n{i}\n" for i in range(1200)) + "--b--"
    server.request("POST", stream, parts, {"Content-Type": "multipart/mixed; boundary=b"})
    _, h, body = server.get(stream + "?limit=5000")
    assert len(json.loads(body)) == 1000 and h["stream-next-index"] == "1000"


@pytest.mark.parametrize("q", ["from=x", "limit=0", "limit=abc", "since=yesterday", "wait=soon",
                               "wait=-1"])
def test_bad_query_parameters_are_400(server, stream, q):
    status, _, body = server.get(f"{stream}?{q}")
    assert status == 400 and set(json.loads(body)) == {"error", "detail"}


def test_ndjson(server, stream):
    _fill(server, stream, 3)
    status, h, body = server.get(stream, Accept="application/x-ndjson")
    assert h["content-type"] == "application/x-ndjson"
    lines = body.decode().splitlines()
    assert [json.loads(x)["index"] for x in lines] == [0, 1, 2]


def _typed(server, stream):
    for t in ["a", "b", "a", "c"]:
        server.post(stream, t, Event_Type=t)


def test_type_suffix_narrows_reads(server, stream):
    _typed(server, stream)
    assert [e["index"] for e in server.json(stream + ":a")] == [0, 2]


def test_type_query_narrows_reads(server, stream):
    _typed(server, stream)
    assert [e["index"] for e in server.json(stream + "?type=b")] == [1]


def test_type_query_accepts_lists(server, stream):
    _typed(server, stream)
    assert [e["index"] for e in server.json(stream + "?type=b,c")] == [1, 3]
    assert [e["index"] for e in server.json(stream + "?type=a&type=c")] == [0, 2, 3]


def test_type_selector_with_range(server, stream):
    _typed(server, stream)
    assert [e["index"] for e in server.json(stream + ":a[1:]")] == [2]


def test_since_and_until(server, stream):
    for ts in (1000, 2000, 3000, 4000):
        server.post(stream, str(ts), Event_Timestamp=str(ts))
    assert [e["timestamp"] for e in server.json(stream + "?since=2000&until=4000")] == [2000, 3000]


def test_length(server, stream):
    _fill(server, stream, 3)
    status, _, body = server.get(stream + ".length")
    assert status == 200 and body == b"3"


def test_length_of_unknown_stream_is_0(server, stream):
    assert server.get(stream + ".length")[2] == b"0"


def test_head_gives_stream_length(server, stream):
    _fill(server, stream, 2)
    status, h, body = server.request("HEAD", stream)
    assert status == 200 and h["stream-length"] == "2" and body == b""


def test_unknown_reducer_is_404(server, stream):
    assert server.get(stream + ".nothing")[0] == 404


def test_type_definition_urls_are_404_here(server, stream):
    assert server.get(stream + ":t.json")[0] == 404


def test_builtin_unknown_stream_read_is_404(server):
    assert server.get("/pipet/unknown")[0] == 404


def test_read_of_substream_is_separate(server, stream):
    server.post(stream + "(1)", "in-sub")
    server.post(stream, "in-main")
    assert [e["data"] for e in server.json(stream + "(1)")] == ["in-sub"]


def test_log_stream_is_readable(server, stream):
    assert server.json(stream + "/logs") == []


# -- long-poll ------------------------------------------------------------------------------------

def test_long_poll_returns_at_once_when_events_exist(server, stream):
    _fill(server, stream, 2)
    t = time.monotonic()
    page = server.json(stream + "?from=1&wait=5")
    assert [e["index"] for e in page] == [1] and time.monotonic() - t < 2


def test_long_poll_waits_for_the_next_event(server, stream):
    _fill(server, stream, 1)
    timer = threading.Timer(0.4, lambda: server.post(stream, "late"))
    timer.start()
    t = time.monotonic()
    page = server.json(stream + "?from=1&wait=5")
    timer.join()
    assert [e["data"] for e in page] == ["late"]
    assert 0.3 < time.monotonic() - t < 4


def test_long_poll_times_out_empty(server, stream):
    t = time.monotonic()
    status, h, body = server.get(stream + "?from=0&wait=0.5")
    assert status == 200 and json.loads(body) == []
    assert 0.4 < time.monotonic() - t < 3


def test_long_poll_without_from_waits_for_new_events(server, stream):
    _fill(server, stream, 3)
    timer = threading.Timer(0.3, lambda: server.post(stream, "new"))
    timer.start()
    page = server.json(stream + "?wait=5")
    timer.join()
    assert [e["index"] for e in page] == [3]


def test_long_poll_wait_is_capped(server, stream):
    t = time.monotonic()
    server.get(stream + "?from=0&wait=3600", )
    assert time.monotonic() - t < 8  # maxWait is 5 s on this server
