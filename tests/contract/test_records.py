"""The RecordStore contract, run against every adapter."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from modelyard.errors import (
    ConflictError,
    InvalidInputError,
    RecordExistsError,
    RecordNotFoundError,
)
from modelyard.storage.records import Check, Delete, Put, RecordStore
from tests.conftest import RECORD_BACKENDS, make_record_store


def test_put_then_get_returns_equal_copy(records: RecordStore) -> None:
    item = {"pk": "m#a", "sk": "v#1", "n": 1, "f": 0.5, "s": "x", "l": [1, "a"], "d": {"k": None}}
    records.put(item)
    got = records.get("m#a", "v#1")
    assert got == item
    got["n"] = 99
    assert records.get("m#a", "v#1")["n"] == 1


def test_put_replaces(records: RecordStore) -> None:
    records.put({"pk": "p", "sk": "s", "v": 1})
    records.put({"pk": "p", "sk": "s", "w": 2})
    assert records.get("p", "s") == {"pk": "p", "sk": "s", "w": 2}


def test_get_missing_raises_and_find_returns_none(records: RecordStore) -> None:
    with pytest.raises(RecordNotFoundError, match="pk='p'"):
        records.get("p", "nope")
    assert records.find("p", "nope") is None


def test_if_absent(records: RecordStore) -> None:
    records.put({"pk": "p", "sk": "s", "v": 1}, if_absent=True)
    with pytest.raises(RecordExistsError):
        records.put({"pk": "p", "sk": "s", "v": 2}, if_absent=True)
    assert records.get("p", "s")["v"] == 1


def test_expect_is_optimistic_locking(records: RecordStore) -> None:
    records.put({"pk": "p", "sk": "s", "rev": 1})
    records.put({"pk": "p", "sk": "s", "rev": 2}, expect={"rev": 1})
    with pytest.raises(ConflictError):
        records.put({"pk": "p", "sk": "s", "rev": 3}, expect={"rev": 1})
    with pytest.raises(ConflictError):
        records.put({"pk": "p", "sk": "missing", "rev": 1}, expect={"rev": 0})
    assert records.get("p", "s")["rev"] == 2


def test_query_prefix_order_reverse_limit(records: RecordStore) -> None:
    for i in [3, 1, 10, 2]:
        records.put({"pk": "m", "sk": f"v#{i:04d}", "i": i})
    records.put({"pk": "m", "sk": "w#0001", "i": -1})
    records.put({"pk": "other", "sk": "v#0001", "i": -2})
    assert [r["i"] for r in records.query("m", prefix="v#")] == [1, 2, 3, 10]
    assert [r["i"] for r in records.query("m", prefix="v#", reverse=True)] == [10, 3, 2, 1]
    assert [r["i"] for r in records.query("m", prefix="v#", reverse=True, limit=1)] == [10]
    assert [r["i"] for r in records.query("m")] == [1, 2, 3, 10, -1]
    assert list(records.query("m", limit=0)) == []
    assert list(records.query("empty")) == []


def test_query_pages_through_many_items(records: RecordStore) -> None:
    records.put_many([{"pk": "big", "sk": f"{i:06d}", "i": i} for i in range(2500)])
    assert [r["i"] for r in records.query("big")] == list(range(2500))
    assert [r["i"] for r in records.query("big", reverse=True, limit=1500)] == list(
        range(2499, 999, -1)
    )


def test_query_unicode_prefix(records: RecordStore) -> None:
    for sk in ["é", "éa", "é\U0010ffff", "f", "e"]:
        records.put({"pk": "u", "sk": sk})
    assert [r["sk"] for r in records.query("u", prefix="é")] == ["é", "éa", "é\U0010ffff"]


def test_transact_all_or_nothing(records: RecordStore) -> None:
    records.put({"pk": "a", "sk": "1", "v": 0})
    with pytest.raises(ConflictError):
        records.transact(
            [
                Put({"pk": "a", "sk": "2", "v": 1}),
                Put({"pk": "a", "sk": "1", "v": 9}, if_absent=True),
            ]
        )
    assert records.find("a", "2") is None
    assert records.get("a", "1")["v"] == 0
    records.transact(
        [Put({"pk": "a", "sk": "2", "v": 1}), Delete("a", "1"), Check("z", "z", exists=False)]
    )
    assert records.find("a", "1") is None
    assert records.get("a", "2")["v"] == 1


def test_transact_conditions(records: RecordStore) -> None:
    records.put({"pk": "a", "sk": "1", "v": 0})
    with pytest.raises(ConflictError):
        records.transact([Delete("a", "missing", must_exist=True), Put({"pk": "a", "sk": "3"})])
    with pytest.raises(ConflictError):
        records.transact([Check("a", "1", expect={"v": 1}), Put({"pk": "a", "sk": "3"})])
    assert records.find("a", "3") is None
    records.transact([Check("a", "1", expect={"v": 0}), Put({"pk": "a", "sk": "3"})])
    assert records.find("a", "3") is not None


def test_transact_refuses_two_writes_to_one_key(records: RecordStore) -> None:
    with pytest.raises(InvalidInputError, match="two writes"):
        records.transact([Put({"pk": "a", "sk": "1"}), Delete("a", "1")])


@pytest.mark.parametrize(
    "item",
    [
        {"sk": "s"},
        {"pk": "", "sk": "s"},
        {"pk": "p", "sk": "a\x00b"},
        {"pk": "p", "sk": "x" * 2000},
        {"pk": 1, "sk": "s"},
        {"pk": "p", "sk": "s", "v": float("nan")},
        {"pk": "p", "sk": "s", "v": float("inf")},
        {"pk": "p", "sk": "s", "v": object()},
    ],
)
def test_invalid_items_are_refused_and_nothing_written(
    records: RecordStore, item: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInputError):
        records.put(item)
    with pytest.raises(InvalidInputError):
        records.put_many([{"pk": "ok", "sk": "1"}, item])
    assert records.find("ok", "1") is None


def test_delete_missing_is_fine(records: RecordStore) -> None:
    records.delete("p", "s")
    records.put({"pk": "p", "sk": "s"})
    records.delete("p", "s")
    assert records.find("p", "s") is None


# -- stateful: the adapter against a plain dict ----------------------------------------------

_keys = st.sampled_from(["a", "b", "c", "ab", "abc", "b\u00e9", "z"])
_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
)


class RecordStoreMachine(RuleBasedStateMachine):
    backend = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="rsm-"))
        self.store = make_record_store(self.backend, self.folder)
        self.model: dict[tuple[str, str], dict[str, Any]] = {}

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    @rule(pk=_keys, sk=_keys, v=_values)
    def put(self, pk: str, sk: str, v: Any) -> None:
        self.store.put({"pk": pk, "sk": sk, "v": v})
        self.model[(pk, sk)] = {"pk": pk, "sk": sk, "v": v}

    @rule(pk=_keys, sk=_keys, v=_values)
    def put_if_absent(self, pk: str, sk: str, v: Any) -> None:
        if (pk, sk) in self.model:
            with pytest.raises(RecordExistsError):
                self.store.put({"pk": pk, "sk": sk, "v": v}, if_absent=True)
        else:
            self.store.put({"pk": pk, "sk": sk, "v": v}, if_absent=True)
            self.model[(pk, sk)] = {"pk": pk, "sk": sk, "v": v}

    @rule(pk=_keys, sk=_keys)
    def delete(self, pk: str, sk: str) -> None:
        self.store.delete(pk, sk)
        self.model.pop((pk, sk), None)

    @rule(pk=_keys, sk1=_keys, sk2=_keys, v=_values, fail=st.booleans())
    def transact(self, pk: str, sk1: str, sk2: str, v: Any, fail: bool) -> None:
        if sk1 == sk2:
            return
        writes = [Put({"pk": pk, "sk": sk1, "v": v}), Delete(pk, sk2)]
        if fail:
            writes.append(Check("never", "there"))
            with pytest.raises(ConflictError):
                self.store.transact(writes)
            return
        self.store.transact(writes)
        self.model[(pk, sk1)] = {"pk": pk, "sk": sk1, "v": v}
        self.model.pop((pk, sk2), None)

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def get_existing(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.model)))
        assert self.store.get(*key) == self.model[key]

    @rule(pk=_keys, prefix=st.sampled_from(["", "a", "ab", "b", "q"]), reverse=st.booleans())
    def query(self, pk: str, prefix: str, reverse: bool) -> None:
        expected = sorted(
            (item for (p, s), item in self.model.items() if p == pk and s.startswith(prefix)),
            key=lambda item: item["sk"],
            reverse=reverse,
        )
        assert list(self.store.query(pk, prefix=prefix, reverse=reverse)) == expected

    @invariant()
    def finds_agree(self) -> None:
        for key, item in self.model.items():
            assert self.store.find(*key) == item


@pytest.mark.parametrize("backend", RECORD_BACKENDS)
def test_stateful_against_dict(backend: str) -> None:
    machine = type(f"Machine_{backend}", (RecordStoreMachine,), {"backend": backend})
    state_test = machine.TestCase
    state_test.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
    state_test("runTest").runTest()
