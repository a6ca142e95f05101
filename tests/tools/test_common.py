"""The foundation's pieces on their own: parameters, ids, fixture times, the store."""

from __future__ import annotations

import pytest

from environments.tools.common import (
    FixtureError,
    ParamError,
    Params,
    Store,
    resolve_time,
    stable_id,
    to_epoch,
)
from environments.tools.common.params import parse_body, parse_query


def test_typed_getters_accept_what_clients_send():
    p = Params(
        {
            "limit": "25",
            "n": 7,
            "f": 2.0,
            "yes": "1",
            "no": "false",
            "js": True,
            "blocks": '[{"type": "divider"}]',
            "ids": "U1, U2,,U3",
            "list": ["a", "b"],
            "pad": "  x  ",
            "num": 1.5,
        }
    )
    assert p.integer("limit", 100, lo=1, hi=1000) == 25
    assert p.integer("n", 0) == 7 and p.integer("f", 0) == 2
    assert p.integer("missing", 100) == 100
    assert p.integer("limit", 100, lo=1, hi=10) == 10  # clamped, not refused
    assert p.flag("yes") is True and p.flag("no") is False and p.flag("js") is True
    assert p.flag("missing", default=True) is True
    assert p.structured("blocks") == [{"type": "divider"}]
    assert p.names("ids") == ["U1", "U2", "U3"] and p.names("list") == ["a", "b"]
    assert p.text("pad") == "x" and p.text("pad", strip=False) == "  x  "
    assert p.text("n") == "7" and p.text("num") == "1.5"


@pytest.mark.parametrize(
    ("values", "call"),
    [
        ({"limit": "ten"}, lambda p: p.integer("limit", 1)),
        ({"limit": True}, lambda p: p.integer("limit", 1)),
        ({"limit": "9" * 40}, lambda p: p.integer("limit", 1)),
        ({"b": "maybe"}, lambda p: p.flag("b")),
        ({"t": {"a": 1}}, lambda p: p.text("t")),
        ({"t": "x" * 11}, lambda p: p.text("t", max_len=10)),
        ({"t": float("nan")}, lambda p: p.text("t")),
        ({}, lambda p: p.text("t", required=True)),
        ({"j": "{nope"}, lambda p: p.structured("j")),
        ({"l": [1, 2]}, lambda p: p.names("l")),
    ],
)
def test_typed_getters_refuse_bad_values_with_param_error(values, call):
    with pytest.raises(ParamError) as info:
        call(Params(values))
    assert info.value.code == "invalid_arguments" and info.value.name


def test_text_is_made_safe_to_store():
    p = Params({"t": "a\x00b\ud800c"})
    assert p.text("t") == "ab?c"


def test_bodies_by_content_type():
    assert parse_body("application/json", b'{"a": 1}') == {"a": 1}
    assert parse_body("application/x-www-form-urlencoded", b"a=1&b=%E2%9C%93") == {
        "a": "1",
        "b": "✓",
    }
    assert parse_body("", b'{"sniffed": true}') == {"sniffed": True}
    multipart = b'--xyz\r\nContent-Disposition: form-data; name="channel"\r\n\r\nC1\r\n--xyz--\r\n'
    assert parse_body("multipart/form-data; boundary=xyz", multipart) == {"channel": "C1"}
    assert parse_query(b"a=%ED%A0%80&b") == {"a": "\ufffd\ufffd\ufffd", "b": ""}
    for ctype, body, code in [
        ("application/json", b"{bad", "invalid_json"),
        ("application/json", b"[1, 2]", "json_not_object"),
        ("application/json", b"[" * 100_000, "invalid_json"),
        ("multipart/form-data; boundary=q", b"garbage", "invalid_form_data"),
    ]:
        with pytest.raises(ParamError) as info:
            parse_body(ctype, body)
        assert info.value.code == code


def test_stable_ids_depend_on_seed_and_key_only():
    assert stable_id("C", 0, "channel", "eng") == stable_id("C", 0, "channel", "eng")
    assert stable_id("C", 0, "channel", "eng") != stable_id("C", 1, "channel", "eng")
    assert stable_id("C", 0, "channel", "eng") != stable_id("C", 0, "channel", "ops")
    ident = stable_id("U", 3, "user", "maya.chen")
    assert ident.startswith("U") and len(ident) == 11 and ident.isalnum() and ident.isupper()


def test_fixture_times():
    base = to_epoch("2026-09-01T00:00:00Z")
    assert base == to_epoch("2026-09-01") == to_epoch("2026-09-01T02:00:00+02:00")
    assert resolve_time("+1h30m", base) == base + 5400
    assert resolve_time("+2d", base) == base + 172800
    with pytest.raises(FixtureError):
        resolve_time("+5m", None)
    with pytest.raises(FixtureError):
        resolve_time("+soon", base)
    with pytest.raises(FixtureError):
        to_epoch("next tuesday")


def test_store_transactions_roll_back_with_their_events(tmp_path):
    store = Store(tmp_path / "t.db", "CREATE TABLE IF NOT EXISTS things (name TEXT);")
    with store.write() as db:
        db.execute("INSERT INTO things VALUES ('kept')")
        store.record_event(
            time=10.0, actor="a", kind="thing.added", object_id="1", payload={"name": "kept"}
        )
    with pytest.raises(RuntimeError), store.write() as db:
        db.execute("INSERT INTO things VALUES ('lost')")
        store.record_event(time=11.0, actor="a", kind="thing.added", object_id="2", payload={})
        raise RuntimeError("boom")
    with store.read() as db:
        assert [r[0] for r in db.execute("SELECT name FROM things")] == ["kept"]
    events = store.events(since=0)
    assert [(e["object_id"], e["payload"]) for e in events] == [("1", {"name": "kept"})]
    assert store.events(since=10.5) == [] and store.events(kind="thing")[0]["kind"] == "thing.added"
    assert store.dump_table("things", "name") == [{"name": "kept"}]
    store.close()


def test_a_store_transaction_cannot_be_joined_by_another_request_on_the_loop(tmp_path):
    import asyncio

    from environments.tools.common.store import Store

    store = Store(tmp_path / "t.db", "CREATE TABLE IF NOT EXISTS t (v INTEGER);")

    async def holds_across_await(entered: asyncio.Event, release: asyncio.Event):
        with store.write() as db:
            db.execute("INSERT INTO t VALUES (1)")
            entered.set()
            await release.wait()  # the mistake: awaiting while holding the store

    async def other_request():
        with store.write() as db:
            db.execute("INSERT INTO t VALUES (2)")

    async def main():
        entered, release = asyncio.Event(), asyncio.Event()
        first = asyncio.create_task(holds_across_await(entered, release))
        await entered.wait()
        try:
            await other_request()
        finally:
            release.set()
            await first

    import pytest

    with pytest.raises(RuntimeError, match="must not await while holding the store"):
        asyncio.run(main())
    with store.read() as db:
        assert [r[0] for r in db.execute("SELECT v FROM t")] == [1]
