"""FeatureService: apply plans, versions, ingestion, retrieval, materialization, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

from modelyard.access import AccessGuard, AllowAll, AuditLog, Authorizer, Principal, RolePolicy
from modelyard.errors import (
    ChecksumMismatchError,
    ConflictError,
    EntityNotFoundError,
    FeatureGroupNotFoundError,
    InvalidInputError,
    PermissionDeniedError,
    SchemaViolationError,
)
from modelyard.features import FeatureGroupSpec, FeatureService
from modelyard.storage.memory import MemoryBlobStore, MemoryRecordStore
from modelyard.storage.online_memory import MemoryOnlineStore

T0 = datetime(2020, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2024, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


class Env:
    def __init__(self, policy: object = None, user: str = "alice") -> None:
        self.records = MemoryRecordStore()
        self.blobs = MemoryBlobStore()
        self.online = MemoryOnlineStore()
        self.clock = Clock()
        self.audit = AuditLog(self.records)
        self.policy = policy or AllowAll()
        self.svc = self.as_user(user)

    def as_user(self, user: str, roles: frozenset[str] = frozenset()) -> FeatureService:
        guard = AccessGuard(Authorizer(self.policy, self.audit), Principal(user, roles))  # type: ignore[arg-type]
        return FeatureService(self.records, self.blobs, self.online, guard, clock=self.clock)


def make_spec(**changes: object) -> FeatureGroupSpec:
    base: dict[str, object] = {
        "name": "enc",
        "entity_key": "id",
        "event_time": "ts",
        "features": [{"name": "a", "dtype": "float64"}, {"name": "s", "dtype": "string"}],
    }
    base.update(changes)
    return FeatureGroupSpec.model_validate(base)


def rows(ids: list[int], days: list[int], a: list[float | None], s: list[str] | None = None):
    return pl.DataFrame(
        {
            "id": ids,
            "ts": [T0 + timedelta(days=d) for d in days],
            "a": a,
            "s": s or [f"s{i}" for i in ids],
        }
    )


@pytest.fixture
def env() -> Env:
    e = Env()
    e.svc.apply([make_spec()])
    return e


# -- apply -----------------------------------------------------------------------------------
def test_apply_is_a_plan_and_idempotent() -> None:
    e = Env()
    assert [i.action for i in e.svc.apply([make_spec()], dry_run=True)] == ["create"]
    assert e.svc.list_groups() == []
    assert [i.action for i in e.svc.apply([make_spec()])] == ["create"]
    again = e.svc.apply([make_spec()])
    assert [(i.action, i.version) for i in again] == [("no_change", 1)]
    meta = e.svc.apply([make_spec(description="new words", tags={"t": "1"})])
    assert meta[0].action == "update_metadata"
    assert e.svc.get_group("enc")["description"] == "new words"
    changed = e.svc.apply([make_spec(features=[{"name": "a", "dtype": "float64"}])])
    assert (changed[0].action, changed[0].version, changed[0].changes) == (
        "new_version",
        2,
        ["- feature s"],
    )
    assert [v.version for v in e.svc.list_versions("enc")] == [1, 2]
    assert e.svc.get_version("enc", 1).spec.feature_names == ["a", "s"]


def test_rewriting_a_version_in_place_is_refused(env: Env) -> None:
    with pytest.raises(ConflictError, match="history is never rewritten") as caught:
        env.svc.apply([make_spec(version=1, features=[{"name": "a", "dtype": "int64"}])])
    assert "version 2" in caught.value.hint
    assert [v.version for v in env.svc.list_versions("enc")] == [1]
    with pytest.raises(InvalidInputError, match="next version is 2"):
        env.svc.apply([make_spec(version=5)])
    plan = env.svc.apply([make_spec(version=2, features=[{"name": "a", "dtype": "int64"}])])
    assert plan[0].action == "new_version"
    again = env.svc.apply([make_spec(version=2, features=[{"name": "a", "dtype": "int64"}])])
    assert again[0].action == "no_change"


def test_a_failing_group_in_a_plan_writes_nothing(env: Env) -> None:
    bad = make_spec(version=1, features=[{"name": "z", "dtype": "int64"}])
    with pytest.raises(ConflictError):
        env.svc.apply([make_spec(name="other"), bad])
    assert [g["name"] for g in env.svc.list_groups()] == ["enc"]


# -- ingestion -------------------------------------------------------------------------------
def test_ingest_reads_back_exactly_with_times(env: Env) -> None:
    ing = env.svc.ingest("enc", rows([1, 2], [0, 1], [1.5, None]))
    assert (ing.rows, ing.seq, ing.version, ing.ingested_by) == (2, 1, 1, "alice")
    out = env.svc.read_range("enc")
    assert out["id"].to_list() == [1, 2]
    assert out["a"].to_list() == [1.5, None]
    assert out["ingested_at"].to_list() == [ing.ingested_at] * 2
    assert env.blobs.exists("features/enc/v1/ingest=00000001/part-0.parquet")


def test_ingest_from_csv_parquet_and_pandas(env: Env, tmp_path: Path) -> None:
    csv = tmp_path / "f.csv"
    csv.write_text("id,ts,a,s,extra\n1,2020-01-01,0.5,x,9\n")
    env.svc.ingest("enc", csv)
    pq = tmp_path / "f.parquet"
    rows([2], [0], [1.0]).write_parquet(pq)
    env.svc.ingest("enc", pq)
    env.svc.ingest("enc", rows([3], [0], [2.0]).to_pandas())
    assert env.svc.read_range("enc")["id"].to_list() == [1, 2, 3]
    assert [i.source for i in env.svc.ingestions("enc")] == ["f.csv", "f.parquet", "frame"]


def test_rejected_ingestion_writes_nothing(env: Env, tmp_path: Path) -> None:
    bad = pl.DataFrame(
        {"id": ["1", None], "ts": ["2020-01-01", "x"], "a": ["1", "y"], "s": ["", ""]}
    )
    with pytest.raises(SchemaViolationError) as caught:
        env.svc.ingest("enc", bad)
    assert {v["column"] for v in caught.value.violations} == {"id", "ts", "a"}
    assert list(env.blobs.list("features/")) == []
    assert env.svc.ingestions("enc") == []
    with pytest.raises(InvalidInputError, match="no rows"):
        env.svc.ingest("enc", rows([], [], []))
    with pytest.raises(InvalidInputError, match="does not exist"):
        env.svc.ingest("enc", tmp_path / "missing.csv")
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(InvalidInputError, match="neither Parquet nor CSV"):
        env.svc.ingest("enc", tmp_path / "x.json")


def test_only_the_latest_version_accepts_rows(env: Env) -> None:
    env.svc.apply([make_spec(features=[{"name": "a", "dtype": "float64"}])])
    with pytest.raises(ConflictError, match="frozen"):
        env.svc.ingest("enc", rows([1], [0], [1.0]), version=1)


def test_unknown_group_and_version(env: Env) -> None:
    with pytest.raises(FeatureGroupNotFoundError, match="known groups: enc"):
        env.svc.get_group("nope")
    with pytest.raises(FeatureGroupNotFoundError, match="no version 7; latest is 1"):
        env.svc.get_version("enc", 7)
    with pytest.raises(FeatureGroupNotFoundError):
        env.svc.ingest("nope", rows([1], [0], [1.0]))
    with pytest.raises(InvalidInputError, match="not valid"):
        env.svc.get_group("../x")


# -- offline retrieval -----------------------------------------------------------------------
def test_point_in_time_join_ties_ttl_and_as_of(env: Env) -> None:
    first = env.svc.ingest("enc", rows([1, 1, 2], [0, 2, 0], [1.0, 2.0, 5.0]))
    late = env.svc.ingest("enc", rows([1], [0], [1.5]))  # a late correction of day 0
    entities = pl.DataFrame(
        {
            "id": [1, 1, 1, 2, 3],
            "event_time": [T0 + timedelta(days=d) for d in (1, -1, 3, 10, 0)],
        }
    )
    out = env.svc.get_historical_features(entities, ["enc"], with_times=True)
    assert out.columns == ["id", "event_time", "a", "s", "enc__event_time", "enc__ingested_at"]
    assert out["a"].to_list() == [1.5, None, 2.0, 5.0, None]
    assert out["enc__ingested_at"][0] == late.ingested_at
    before = env.svc.get_historical_features(entities, ["enc:v1"], as_of=first.ingested_at)
    assert before["a"].to_list() == [1.0, None, 2.0, 5.0, None]
    ttl = env.svc.get_historical_features(entities, ["enc"], ttl=timedelta(days=2))
    assert ttl["a"].to_list() == [1.5, None, 2.0, None, None]


def test_join_across_groups_with_full_names(env: Env) -> None:
    env.svc.apply([make_spec(name="other", features=[{"name": "a", "dtype": "float64"}])])
    env.svc.ingest("enc", rows([1], [0], [1.0]))
    env.svc.ingest("other", rows([1], [0], [9.0]).drop("s"))
    entities = pd.DataFrame({"id": [1], "event_time": [pd.Timestamp("2020-01-05")]})
    with pytest.raises(InvalidInputError, match="clash"):
        env.svc.get_historical_features(entities, ["enc", "other"])
    out = env.svc.get_historical_features(entities, ["enc", "other"], full_names=True)
    assert out.row(0, named=True)["enc__a"] == 1.0
    assert out.row(0, named=True)["other__a"] == 9.0


def test_join_needs_keys_and_timestamps(env: Env) -> None:
    with pytest.raises(InvalidInputError, match="key column"):
        env.svc.get_historical_features(pl.DataFrame({"event_time": [T0]}), ["enc"])
    with pytest.raises(InvalidInputError, match="timestamp column"):
        env.svc.get_historical_features(pl.DataFrame({"id": [1]}), ["enc"])
    with pytest.raises(InvalidInputError, match="no timestamp"):
        env.svc.get_historical_features(
            pl.DataFrame(
                {"id": [1], "event_time": [None]}, schema_overrides={"event_time": pl.Datetime}
            ),
            ["enc"],
        )


def test_read_range_latest_and_entity(env: Env) -> None:
    env.svc.ingest("enc", rows([1, 1, 2], [0, 5, 1], [1.0, 2.0, 3.0]))
    window = env.svc.read_range("enc", start=T0, end=T0 + timedelta(days=2))
    assert window["a"].to_list() == [1.0, 3.0]
    latest = env.svc.read_range("enc", latest=True)
    assert latest["a"].to_list() == [2.0, 3.0]
    assert env.svc.read_range("enc", entity=1)["a"].to_list() == [1.0, 2.0]


def test_tampered_partition_is_detected(env: Env, tmp_path: Path) -> None:
    ing = env.svc.ingest("enc", rows([1], [0], [1.0]))
    rows([1], [0], [666.0]).write_parquet(path := tmp_path / "tamper.parquet")
    env.blobs.put(ing.key, path.read_bytes())
    with pytest.raises(ChecksumMismatchError, match="corrupt"):
        env.svc.read_range("enc")


# -- online ----------------------------------------------------------------------------------
def test_materialize_is_incremental_and_keeps_the_latest(env: Env) -> None:
    env.svc.ingest("enc", rows([1, 2], [5, 0], [5.0, 1.0]))
    first = env.svc.materialize("enc")
    assert (first.ingestions, first.entities_written, first.through_seq) == (1, 2, 1)
    assert env.svc.materialize("enc").ingestions == 0
    env.svc.ingest("enc", rows([1, 2], [1, 3], [9.0, 3.0]))  # late, older event for 1
    second = env.svc.materialize("enc")
    assert (second.from_seq, second.ingestions, second.rows_read) == (1, 1, 2)
    reader = env.svc.online("enc")
    assert reader.get(1) == {"a": 5.0, "s": "s1"}
    assert reader.get("2") == {"a": 3.0, "s": "s2"}
    assert reader.get_many([2, 99]) == [{"a": 3.0, "s": "s2"}, None]
    full = env.svc.materialize("enc", full=True)
    assert (full.from_seq, full.ingestions, full.entities_written) == (0, 2, 2)
    assert env.svc.get_online("enc", [1]) == [{"a": 5.0, "s": "s1"}]


def test_unknown_entity_and_bad_key(env: Env) -> None:
    env.svc.ingest("enc", rows([1], [0], [1.0]))
    env.svc.materialize("enc")
    with pytest.raises(EntityNotFoundError, match="no online value for entity 42"):
        env.svc.online("enc").get(42)
    with pytest.raises(InvalidInputError, match="must be an integer"):
        env.svc.online("enc").get("abc")


def test_composite_keys_and_datetime_features() -> None:
    e = Env()
    spec = make_spec(
        name="brand",
        entity_key=["patient", "brand"],
        key_types=["int64", "string"],
        features=[{"name": "seen", "dtype": "datetime"}, {"name": "n", "dtype": "int64"}],
    )
    e.svc.apply([spec])
    frame = pl.DataFrame(
        {
            "patient": [1, 1],
            "brand": ["metformin", "insulin"],
            "ts": [T0, T0],
            "seen": [T0, None],
            "n": [1, 2],
        }
    )
    e.svc.ingest("brand", frame)
    e.svc.materialize("brand")
    reader = e.svc.online("brand")
    assert reader.get((1, "metformin")) == {"seen": T0, "n": 1}
    assert reader.get_many([("1", "insulin")]) == [{"seen": None, "n": 2}]
    with pytest.raises(InvalidInputError, match="got 1 value"):
        reader.get(1)
    entities = pl.DataFrame({"patient": [1], "brand": ["insulin"], "event_time": [T0]})
    assert e.svc.get_historical_features(entities, ["brand"])["n"].to_list() == [2]


def test_pins_resolve_and_detect_changes(env: Env) -> None:
    (pin,) = env.svc.pin(["enc"])
    assert (pin.group, pin.version, pin.ref) == ("enc", 1, "enc:v1")
    assert env.svc.resolve_pins([pin.to_dict()]) == [pin]
    forged = {**pin.to_dict(), "fingerprint": "0" * 64}
    with pytest.raises(ConflictError, match="fingerprint"):
        env.svc.resolve_pins([forged])
    with pytest.raises(InvalidInputError, match="not valid"):
        env.svc.pin(["enc:vx"])


def test_history_lists_versions_ingestions_materializations(env: Env) -> None:
    env.svc.ingest("enc", rows([1], [0], [1.0]))
    env.svc.materialize("enc")
    events = [e["event"] for e in env.svc.history("enc")]
    assert events == ["version_created", "ingestion_committed", "materialized"]


def test_every_action_is_authorized_and_audited() -> None:
    policy = RolePolicy({"viewer": {"features.read", "features.list"}, "eng": {"features.*"}})
    e = Env(policy=policy, user="boss")
    eng = e.as_user("boss", frozenset({"eng"}))
    eng.apply([make_spec()])
    eng.ingest("enc", rows([1], [0], [1.0]))
    viewer = e.as_user("vic", frozenset({"viewer"}))
    assert viewer.get_group("enc")["name"] == "enc"
    with pytest.raises(PermissionDeniedError):
        viewer.ingest("enc", rows([2], [0], [1.0]))
    with pytest.raises(PermissionDeniedError):
        viewer.online("enc")
    outcomes = {(a.principal, a.action, a.outcome) for a in e.audit.entries()}
    assert ("vic", "features.ingest", "denied") in outcomes
    assert ("boss", "features.ingest", "allowed") in outcomes


def test_a_pending_ingestion_holds_the_watermark_until_abandoned(env: Env) -> None:
    env.svc.ingest("enc", rows([1], [0], [1.0]))
    pending = {
        "pk": "features/enc/v1",
        "sk": "ingest/00000002",
        "seq": 2,
        "status": "pending",
        "key": "features/enc/v1/ingest=00000002/part-0.parquet",
        "ingested_at": (env.clock.now + timedelta(seconds=1)).isoformat(),
        "ingested_by": "crashed",
        "source": "frame",
    }
    env.records.put(pending)
    env.svc.ingest("enc", rows([2], [0], [2.0]))
    first = env.svc.materialize("enc")
    assert (first.through_seq, first.ingestions) == (1, 1)  # stops before the pending one
    env.clock.now += timedelta(hours=2)
    second = env.svc.materialize("enc")
    assert (second.through_seq, second.ingestions) == (3, 1)
    assert env.svc.get_online("enc", [1, 2]) == [{"a": 1.0, "s": "s1"}, {"a": 2.0, "s": "s2"}]
