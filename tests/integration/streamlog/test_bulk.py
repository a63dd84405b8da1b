"""§4 bulk pushes: one event per part of a multipart/* body, all-or-nothing."""
import json

import pytest

CT = "multipart/mixed; boundary=xyz"


def _bulk(server, stream, body, ct=CT, **headers):
    h = {"Content-Type": ct}
    h.update({k.replace("_", "-"): v for k, v in headers.items()})
    return server.request("POST", stream, body, h)


def _events(server, stream):
    return server.json(stream)


@pytest.mark.parametrize("nl", ["\r\n", "\n"], ids=["crlf", "bare-lf"])
def test_bulk_appends_one_event_per_part(server, stream, nl):
    body = nl.join(["--xyz", "Content-Type: text/plain", "", "one", "--xyz", "", "two",
                    "--xyz--", ""])
    status, h, out = _bulk(server, stream, body)
    assert status == 201 and json.loads(out) == [0, 1]
    evs = _events(server, stream)
    assert [e["data"] for e in evs] == ["one", "two"]
    assert evs[0]["contentType"] == "text/plain"


def test_seed_style_bare_lf_example(server, stream):
    body = ("--xyz\nEvent-Type: signup\nContent-Type: application/json\n\n{\"id\": 1}\n"
            "--xyz\nEvent-Type: login\nContent-Type: application/json\n\n{\"id\": 2}\n--xyz--\n")
    status, _, out = _bulk(server, stream, body)
    assert status == 201 and json.loads(out) == [0, 1]
    evs = _events(server, stream)
    assert [(e["eventType"], e["data"]) for e in evs] == [("signup", {"id": 1}), ("login", {"id": 2})]


def test_preamble_and_epilogue_are_ignored(server, stream):
    body = "this is a preamble\r\n--xyz\r\n\r\nonly\r\n--xyz--\r\nthis is an epilogue\r\n"
    assert json.loads(_bulk(server, stream, body)[2]) == [0]
    assert [e["data"] for e in _events(server, stream)] == ["only"]


def test_part_body_keeps_inner_line_breaks(server, stream):
    body = "--xyz\r\n\r\nline1\r\nline2\nline3\r\n--xyz--"
    _bulk(server, stream, body)
    assert server.get(stream + "[0]")[2] == b"line1\r\nline2\nline3"


def test_part_headers_override_request_defaults(server, stream):
    body = "--xyz\nEvent-Type: own\n\na\n--xyz\n\nb\n--xyz--"
    _bulk(server, stream, body, Event_Type="dflt")
    assert [e["eventType"] for e in _events(server, stream)] == ["own", "dflt"]


def test_type_suffix_is_default_for_parts(server, stream):
    _bulk(server, stream + ":sfx", "--xyz\n\na\n--xyz--")
    assert _events(server, stream)[0]["eventType"] == "sfx"


def test_part_timestamps(server, stream):
    body = ("--xyz\nEvent-Timestamp: 1700000000000\n\na\n"
            "--xyz\nEvent-Timestamp: 1700000000005\n\nb\n--xyz--")
    _bulk(server, stream, body)
    assert [e["timestamp"] for e in _events(server, stream)] == [1700000000000, 1700000000005]


def test_request_timestamp_is_default_for_parts(server, stream):
    _bulk(server, stream, "--xyz\n\na\n--xyz\n\nb\n--xyz--", Event_Timestamp="1700000000000")
    assert {e["timestamp"] for e in _events(server, stream)} == {1700000000000}


def test_decreasing_part_timestamps_are_409_and_nothing_appended(server, stream):
    body = ("--xyz\nEvent-Timestamp: 1700000000005\n\na\n"
            "--xyz\nEvent-Timestamp: 1700000000000\n\nb\n--xyz--")
    status, _, out = _bulk(server, stream, body)
    assert status == 409 and set(json.loads(out)) == {"error", "detail"}
    assert server.request("HEAD", stream)[1]["stream-length"] == "0"


def test_quoted_boundary(server, stream):
    status, _, out = _bulk(server, stream, '--a b\r\n\r\nx\r\n--a b--', ct='multipart/mixed; boundary="a b"')
    assert status == 201 and json.loads(out) == [0]


@pytest.mark.parametrize("sub", ["mixed", "related", "x-events", "digest"])
def test_any_multipart_subtype_is_bulk(server, stream, sub):
    status, _, out = _bulk(server, stream, "--xyz\n\na\n--xyz\n\nb\n--xyz--",
                           ct=f"multipart/{sub}; boundary=xyz")
    assert status == 201 and json.loads(out) == [0, 1]


@pytest.mark.parametrize("sub", ["form-data", "alternative"])
def test_form_data_and_alternative_are_single_events(server, stream, sub):
    status, _, out = _bulk(server, stream, "--xyz\r\n\r\na\r\n--xyz--", ct=f"multipart/{sub}; boundary=xyz")
    assert status == 201 and out == b"0"
    assert server.request("HEAD", stream)[1]["stream-length"] == "1"


def _refused(server, stream, body, ct=CT, status=400):
    got, _, out = _bulk(server, stream, body, ct=ct)
    assert got == status, out
    doc = json.loads(out)
    assert set(doc) == {"error", "detail"}
    assert server.request("HEAD", stream)[1]["stream-length"] == "0"
    return doc


def test_missing_boundary_parameter_is_400(server, stream):
    _refused(server, stream, "--xyz\n\na\n--xyz--", ct="multipart/mixed")


def test_no_delimiter_is_400(server, stream):
    _refused(server, stream, "just text")


def test_missing_close_delimiter_is_400_naming_the_part(server, stream):
    doc = _refused(server, stream, "--xyz\n\na\n--xyz\n\nb\n")
    assert doc["detail"]["part"] == 1


def test_part_without_blank_line_is_400_naming_the_part(server, stream):
    doc = _refused(server, stream, "--xyz\n\na\n--xyz\nEvent-Type: t\n--xyz--")
    assert doc["detail"]["part"] == 1


def test_malformed_part_header_is_400(server, stream):
    doc = _refused(server, stream, "--xyz\nno colon here\n\na\n--xyz--")
    assert doc["detail"]["part"] == 0


def test_oversized_part_is_413_naming_it(server, stream):
    big = "a" * (100 * 1024 + 1)
    doc = _refused(server, stream, f"--xyz\n\nok\n--xyz\n\n{big}\n--xyz--", status=413)
    assert doc["detail"]["part"] == 1


def test_bad_json_part_is_415_naming_it(server, stream):
    doc = _refused(server, stream, "--xyz\nContent-Type: application/json\n\n{bad\n--xyz--",
                   status=415)
    assert doc["detail"]["part"] == 0


def test_bad_part_timestamp_is_400(server, stream):
    doc = _refused(server, stream, "--xyz\n\na\n--xyz\nEvent-Timestamp: soon\n\nb\n--xyz--")
    assert doc["detail"]["part"] == 1


def test_part_event_type_too_long_is_400(server, stream):
    _refused(server, stream, f"--xyz\nEvent-Type: {'t' * 101}\n\na\n--xyz--")


def test_part_type_disagreeing_with_suffix_is_400(server, stream):
    got, _, _ = _bulk(server, stream + ":one", "--xyz\nEvent-Type: two\n\na\n--xyz--")
    assert got == 400


def test_zero_parts_is_400(server, stream):
    _refused(server, stream, "--xyz--\r\n")


def test_empty_part_is_an_empty_event(server, stream):
    status, _, out = _bulk(server, stream, "--xyz\n\n\n--xyz--")
    assert status == 201
    assert server.get(stream + "[0]")[2] == b""
