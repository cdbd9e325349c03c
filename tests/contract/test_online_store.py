"""The online feature store port, run against every adapter (memory, SQLite).

The contract: per (group, version) table, one item per entity key; ``put_many`` keeps an item
only if it is at least as new (event time, then ingestion time) as the stored one;
``get_many`` returns values in key order with None for unknown keys.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from modelyard.features.online import OnlineStore
from modelyard.storage.online import open_online_store
from modelyard.storage.online_memory import MemoryOnlineStore
from modelyard.storage.online_sqlite import SqliteOnlineStore

BACKENDS = ["memory", "sqlite"]


def make_online(kind: str, folder: Path) -> OnlineStore:
    if kind == "memory":
        return MemoryOnlineStore()
    return SqliteOnlineStore(folder / "online.db")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    adapter = make_online(request.param, tmp_path)
    yield adapter
    adapter.close()


def test_satisfies_the_port(store: OnlineStore) -> None:
    assert isinstance(store, OnlineStore)


def test_put_then_get_in_key_order_with_none_for_unknown(store: OnlineStore) -> None:
    assert store.put_many("g", 1, [("a", 10, 1, '{"x":1}'), ("b", 10, 1, '{"x":2}')]) == 2
    assert store.get_many("g", 1, ["b", "zz", "a", "b"]) == ['{"x":2}', None, '{"x":1}', '{"x":2}']
    assert store.get_many("g", 1, ["a"]) == ['{"x":1}']
    assert store.get_many("g", 1, []) == []
    assert store.count("g", 1) == 2


def test_tables_are_isolated_by_group_and_version(store: OnlineStore) -> None:
    store.put_many("g", 1, [("a", 1, 1, "v1")])
    store.put_many("g", 2, [("a", 1, 1, "v2")])
    store.put_many("h", 1, [("a", 1, 1, "h1")])
    assert store.get_many("g", 1, ["a"]) == ["v1"]
    assert store.get_many("g", 2, ["a"]) == ["v2"]
    assert store.get_many("h", 1, ["a"]) == ["h1"]
    assert store.get_many("nope", 1, ["a"]) == [None]


def test_newer_event_time_wins_and_older_is_ignored(store: OnlineStore) -> None:
    store.put_many("g", 1, [("a", 100, 5, "new")])
    store.put_many("g", 1, [("a", 50, 9, "older event, later ingestion")])
    assert store.get_many("g", 1, ["a"]) == ["new"]
    store.put_many("g", 1, [("a", 200, 1, "newest event")])
    assert store.get_items("g", 1, ["a"]) == [("a", 200, 1, "newest event")]


def test_equal_event_time_later_ingestion_wins(store: OnlineStore) -> None:
    store.put_many("g", 1, [("a", 100, 5, "first")])
    store.put_many("g", 1, [("a", 100, 4, "earlier ingestion")])
    assert store.get_many("g", 1, ["a"]) == ["first"]
    store.put_many("g", 1, [("a", 100, 6, "correction")])
    assert store.get_many("g", 1, ["a"]) == ["correction"]
    store.put_many("g", 1, [("a", 100, 6, "same times: last write wins")])
    assert store.get_many("g", 1, ["a"]) == ["same times: last write wins"]


def test_many_keys_and_unicode(store: OnlineStore) -> None:
    items = [(f"k{i}\x1fé", i, i, f'{{"i":{i}}}') for i in range(1234)]
    store.put_many("g", 1, items)
    keys = [k for k, *_ in items][::-1]
    assert store.get_many("g", 1, keys) == [v for *_, v in items][::-1]
    assert store.count("g", 1) == 1234


def test_drop_empties_one_table(store: OnlineStore) -> None:
    store.put_many("g", 1, [("a", 1, 1, "x")])
    store.put_many("g", 2, [("a", 1, 1, "y")])
    store.drop("g", 1)
    assert store.get_many("g", 1, ["a"]) == [None]
    assert store.count("g", 1) == 0
    assert store.get_many("g", 2, ["a"]) == ["y"]


def test_close_then_reuse(store: OnlineStore) -> None:
    store.put_many("g", 1, [("a", 1, 1, "x")])
    store.close()
    assert store.get_many("g", 1, ["a"]) == ["x"]


def test_sqlite_persists_across_instances(tmp_path: Path) -> None:
    first = SqliteOnlineStore(tmp_path / "o.db")
    first.put_many("g", 1, [("a", 1, 1, "x")])
    first.close()
    second = open_online_store(f"sqlite:///{tmp_path / 'o.db'}")
    assert second.get_many("g", 1, ["a"]) == ["x"]
    second.close()


def test_unknown_scheme_is_a_config_error() -> None:
    from modelyard.errors import ConfigError

    with pytest.raises(ConfigError, match="redis") as caught:
        open_online_store("redis://localhost")
    assert "sqlite://" in caught.value.hint


def test_failed_batch_writes_nothing(tmp_path: Path) -> None:
    store = SqliteOnlineStore(tmp_path / "o.db")

    def items() -> Iterator[tuple[str, int, int, str]]:
        yield ("a", 1, 1, "x")
        raise RuntimeError("source broke mid-batch")

    with pytest.raises(RuntimeError):
        store.put_many("g", 1, items())
    assert store.get_many("g", 1, ["a"]) == [None]
    store.close()


keys = st.sampled_from(["a", "b", "c", "d\x1f1", "é"])
times = st.integers(min_value=0, max_value=5)


class OnlineMachine(RuleBasedStateMachine):
    """Random writes/reads against an adapter and a plain dict model side by side."""

    kind = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.store = make_online(self.kind, Path(self.tmp.name))
        self.model: dict[tuple[str, str], tuple[int, int, str]] = {}

    @rule(
        table=st.sampled_from(["g", "h"]),
        batch=st.lists(st.tuples(keys, times, times, st.text(max_size=5)), max_size=6),
    )
    def put(self, table: str, batch: list[tuple[str, int, int, str]]) -> None:
        self.store.put_many(table, 1, batch)
        for key, et, it, value in batch:
            old = self.model.get((table, key))
            if old is None or (et, it) >= (old[0], old[1]):
                self.model[(table, key)] = (et, it, value)

    @rule(table=st.sampled_from(["g", "h"]), wanted=st.lists(keys, max_size=6))
    def get(self, table: str, wanted: list[str]) -> None:
        expected = [
            None if (table, k) not in self.model else self.model[(table, k)][2] for k in wanted
        ]
        assert self.store.get_many(table, 1, wanted) == expected

    @rule(table=st.sampled_from(["g", "h"]))
    def drop(self, table: str) -> None:
        self.store.drop(table, 1)
        self.model = {k: v for k, v in self.model.items() if k[0] != table}

    @invariant()
    def counts_match(self) -> None:
        for table in ("g", "h"):
            assert self.store.count(table, 1) == sum(1 for t, _ in self.model if t == table)

    def teardown(self) -> None:
        self.store.close()
        self.tmp.cleanup()


class SqliteOnlineMachine(OnlineMachine):
    kind = "sqlite"


TestMemoryOnlineStateful = OnlineMachine.TestCase
TestMemoryOnlineStateful.settings = settings(max_examples=40, deadline=None)
TestSqliteOnlineStateful = SqliteOnlineMachine.TestCase
TestSqliteOnlineStateful.settings = settings(max_examples=25, deadline=None)
