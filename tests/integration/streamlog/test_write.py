"""§2 and §4: single pushes, event types, timestamps, idempotent producers, error bodies."""
import json

import pytest


def _err(server, status, body):
    doc = json.loads(body)
    assert set(doc) == {"error", "detail"}, doc
    return doc


def test_push_answers_201_with_index_location_and_headers(server, stream):
    status, h, body = server.post(stream, "hello")
    assert status == 201
    assert body == b"0"
    assert h["location"] == f"{stream}[0]"
    assert h["event-index"] == "0"
    assert int(h["event-timestamp"]) > 1_600_000_000_000


def test_indexes_are_contiguous(server, stream):
    got = [server.post(stream, str(i))[2] for i in range(5)]
    assert got == [b"0", b"1", b"2", b"3", b"4"]


def test_accept_json_gives_a_json_number(server, stream):
    server.post(stream, "a")
    status, h, body = server.request("POST", stream, "b", {"Accept": "application/json"})
    assert status == 201 and json.loads(body) == 1
    assert h["content-type"].startswith("application/json")


def test_stream_created_by_first_write(server, stream):
    assert server.request("HEAD", stream)[1]["stream-length"] == "0"
    server.post(stream, "x")
    assert server.request("HEAD", stream)[1]["stream-length"] == "1"


def test_content_type_is_kept(server, stream):
    server.post(stream, '{"a":1}', Content_Type="application/json")
    status, h, body = server.get(stream + "[0]")
    assert h["content-type"] == "application/json" and body == b'{"a":1}'


def test_default_content_type_is_octet_stream(server, stream):
    server.request("POST", stream, b"\x00\x01", {"Content-Type": ""})
    ev = server.json(stream)[0]
    assert ev["contentType"] in ("application/octet-stream", "")


def test_binary_body_round_trips(server, stream):
    data = bytes(range(256))
    server.post(stream, data, Content_Type="application/octet-stream")
    assert server.get(stream + "[0]")[2] == data


def test_empty_body_is_an_event(server, stream):
    assert server.post(stream, b"")[0] == 201
    assert server.get(stream + "[0]")[2] == b""


@pytest.mark.parametrize("how", ["header", "suffix", "query"])
def test_event_type_sources(server, stream, how):
    if how == "header":
        server.post(stream, "x", Event_Type="click")
    elif how == "suffix":
        server.post(stream + ":click", "x")
    else:
        server.post(stream + "?event-type=click", "x")
    assert server.get(stream + "[0]")[1]["event-type"] == "click"


def test_default_event_type_is_message(server, stream):
    server.post(stream, "x")
    assert server.get(stream + "[0]")[1]["event-type"] == "message"


def test_header_wins_over_query(server, stream):
    server.post(stream + "?event-type=q", "x", Event_Type="h")
    assert server.get(stream + "[0]")[1]["event-type"] == "h"


def test_suffix_wins_over_query(server, stream):
    server.post(stream + ":s?event-type=q", "x")
    assert server.get(stream + "[0]")[1]["event-type"] == "s"


def test_header_and_suffix_agreeing_is_fine(server, stream):
    assert server.post(stream + ":same", "x", Event_Type="same")[0] == 201


def test_header_and_suffix_disagreeing_is_400(server, stream):
    status, _, body = server.post(stream + ":a", "x", Event_Type="b")
    assert status == 400
    _err(server, status, body)
    assert server.request("HEAD", stream)[1]["stream-length"] == "0"


def test_event_type_of_100_chars_is_accepted(server, stream):
    assert server.post(stream, "x", Event_Type="t" * 100)[0] == 201


def test_event_type_over_100_chars_is_400(server, stream):
    status, _, body = server.post(stream, "x", Event_Type="t" * 101)
    assert status == 400
    _err(server, status, body)


def test_empty_event_type_query_is_400(server, stream):
    assert server.post(stream + "?event-type=", "x")[0] == 400


def test_client_timestamp_header(server, stream):
    status, h, _ = server.post(stream, "x", Event_Timestamp="1700000000000")
    assert status == 201 and h["event-timestamp"] == "1700000000000"


def test_client_timestamp_query(server, stream):
    status, h, _ = server.post(stream + "?timestamp=1700000000001", "x")
    assert h["event-timestamp"] == "1700000000001"


def test_equal_timestamp_is_allowed(server, stream):
    server.post(stream, "x", Event_Timestamp="1700000000000")
    assert server.post(stream, "y", Event_Timestamp="1700000000000")[0] == 201


def test_lower_timestamp_is_409_and_nothing_appended(server, stream):
    server.post(stream, "x", Event_Timestamp="1700000000000")
    status, _, body = server.post(stream, "y", Event_Timestamp="1600000000000")
    assert status == 409
    _err(server, status, body)
    assert server.request("HEAD", stream)[1]["stream-length"] == "1"


def test_future_timestamp_drags_later_events(server, stream):
    future = 4_000_000_000_000
    server.post(stream, "x", Event_Timestamp=str(future))
    status, h, _ = server.post(stream, "y")
    assert int(h["event-timestamp"]) == future


def test_server_timestamps_never_decrease(server, stream):
    ts = [int(server.post(stream, str(i))[1]["event-timestamp"]) for i in range(5)]
    assert ts == sorted(ts)


@pytest.mark.parametrize("bad", ["abc", "-5", "1.5", "1e12"])
def test_malformed_timestamp_is_400(server, stream, bad):
    status, _, body = server.post(stream, "x", Event_Timestamp=bad)
    assert status == 400
    _err(server, status, body)


def test_100_kib_is_accepted(server, stream):
    assert server.post(stream, b"a" * 100 * 1024)[0] == 201


def test_over_100_kib_is_413_and_nothing_appended(server, stream):
    status, _, body = server.post(stream, b"a" * (100 * 1024 + 1))
    assert status == 413
    _err(server, status, body)
    assert server.request("HEAD", stream)[1]["stream-length"] == "0"


def test_invalid_json_body_is_415(server, stream):
    status, _, body = server.post(stream, "{not json", Content_Type="application/json")
    assert status == 415
    _err(server, status, body)


def test_json_suffix_type_is_checked(server, stream):
    assert server.post(stream, "{", Content_Type="application/cloudevents+json")[0] == 415


def test_valid_json_body_is_stored(server, stream):
    assert server.post(stream, "[1,2]", Content_Type="application/json; charset=utf-8")[0] == 201


# -- idempotent producers ---------------------------------------------------------------------

def test_producer_first_write(server, stream):
    status, h, body = server.post(stream, "a", Producer_Id="p1", Producer_Seq="0")
    assert status == 201 and body == b"0"


def test_producer_repeat_returns_original_with_200(server, stream):
    server.post(stream, "a", Producer_Id="p1", Producer_Seq="0")
    status, h, body = server.post(stream, "a", Producer_Id="p1", Producer_Seq="0")
    assert status == 200 and body == b"0"
    assert server.request("HEAD", stream)[1]["stream-length"] == "1"


def test_producer_next_seq_appends(server, stream):
    server.post(stream, "a", Producer_Id="p1", Producer_Seq="0")
    status, _, body = server.post(stream, "b", Producer_Id="p1", Producer_Seq="1")
    assert status == 201 and body == b"1"


def test_producer_gap_is_409_with_expected(server, stream):
    server.post(stream, "a", Producer_Id="p1", Producer_Seq="0")
    status, _, body = server.post(stream, "b", Producer_Id="p1", Producer_Seq="5")
    assert status == 409
    doc = _err(server, status, body)
    assert doc["detail"]["expected"] == 1


def test_producers_are_independent(server, stream):
    server.post(stream, "a", Producer_Id="p1", Producer_Seq="0")
    assert server.post(stream, "b", Producer_Id="p2", Producer_Seq="0")[0] == 201


def test_producer_id_without_seq_is_400(server, stream):
    assert server.post(stream, "a", Producer_Id="p1")[0] == 400


def test_producer_seq_without_id_is_400(server, stream):
    assert server.post(stream, "a", Producer_Seq="1")[0] == 400


def test_producer_seq_not_a_number_is_400(server, stream):
    status, _, body = server.post(stream, "a", Producer_Id="p", Producer_Seq="x")
    assert status == 400
    _err(server, status, body)


def test_producer_repeat_of_bulk_returns_all_indexes(server, stream):
    body = "--b\r\n\r\none\r\n--b\r\n\r\ntwo\r\n--b--\r\n"
    h = {"Content-Type": "multipart/mixed; boundary=b", "Producer-Id": "q", "Producer-Seq": "3"}
    first = server.request("POST", stream, body, h)
    again = server.request("POST", stream, body, h)
    assert first[0] == 201 and again[0] == 200
    assert json.loads(first[2]) == json.loads(again[2]) == [0, 1]


# -- refusals -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/t/this", "/t/dispatch", "/t/request"])
def test_forbidden_stream_names_are_400(server, path):
    status, _, body = server.post(path, "x")
    assert status == 400
    _err(server, status, body)


@pytest.mark.parametrize("path", ["/t/has.dot!", "/t/" + "a" * 65, "/bad%20acct/s", "/t/a b"])
def test_invalid_names_are_400(server, path):
    status, _, body = server.request("POST", path.replace(" ", "%20"), "x")
    assert status == 400
    _err(server, status, body)


@pytest.mark.parametrize("name", ["cron", "events"])
def test_builtin_streams_are_not_writable(server, name):
    status, _, body = server.post(f"/pipet/{name}", "x")
    assert status == 403
    _err(server, status, body)


def test_unknown_reserved_stream_is_404(server):
    status, _, body = server.post("/pipet/nothing", "x")
    assert status == 404
    _err(server, status, body)


def test_post_to_a_selection_is_405(server, stream):
    status, h, body = server.post(stream + "[0]", "x")
    assert status == 405
    _err(server, status, body)


def test_put_on_stream_with_non_json_settings_is_400_json(server, stream):
    # PUT /{acct}/{strm} sets stream settings (spec §8: {"factory": true}); its body is JSON
    status, h, body = server.request("PUT", stream, "x")
    assert status == 400
    _err(server, status, body)


def test_delete_on_stream_is_405_json(server, stream):
    status, h, body = server.request("DELETE", stream)
    assert status == 405 and "allow" in h
    _err(server, status, body)


def test_post_to_log_stream_is_403(server, stream):
    assert server.post(stream + "/logs", "x")[0] == 403


def test_unknown_sub_resource_is_400(server, stream):
    status, _, body = server.post(stream + "/nope", "x")
    assert status == 400
    _err(server, status, body)


def test_substream_write_and_read(server, stream):
    status, h, body = server.post(stream + "('bob')", "x")
    assert status == 201 and body == b"0"
    assert "(" in h["location"]
    assert server.get(stream + "('bob')[0]")[2] == b"x"
    assert server.request("HEAD", stream)[1]["stream-length"] == "0"


def test_percent_encoded_suffixes(server, stream):
    server.post(stream + "%3Aenc", "x")
    status, h, body = server.get(stream + "%5B0%5D")
    assert status == 200 and h["event-type"] == "enc"


# -- auth and rate limits (the guarded port) ----------------------------------------------------

def test_write_without_key_is_401(server):
    status, h, body = server.request("POST", "/secure/s1", "x", port="guarded")
    assert status == 401 and "www-authenticate" in h
    _err(server, status, body)


def test_write_with_wrong_key_is_403(server):
    status, _, body = server.request("POST", "/secure/s1", "x",
                                     {"Authorization": "Bearer nope"}, port="guarded")
    assert status == 403
    _err(server, status, body)


def test_write_with_key_is_201(server):
    status, _, _ = server.request("POST", "/secure/s2", "x", {"Authorization": "Bearer k2"},
                                  port="guarded")
    assert status == 201


def test_rate_limit_429_with_retry_after(server):
    results = [server.request("POST", "/open/rl", "x", port="guarded") for _ in range(5)]
    statuses = [r[0] for r in results]
    assert statuses[:3] == [201, 201, 201] and 429 in statuses
    limited = results[statuses.index(429)]
    assert int(limited[1]["retry-after"]) >= 1
    _err(server, 429, limited[2])
    length = int(server.request("HEAD", "/open/rl", port="guarded")[1]["stream-length"])
    assert length == statuses.count(201)
