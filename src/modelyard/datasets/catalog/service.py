"""The external dataset catalog: browse entries, import one as a dataset version.

Entries are YAML files in the AWS Open Data Registry's format (see ``catalog.model``): the ones
shipped in ``modelyard/datasets/catalog/entries/`` plus any in extra folders (the workspace's
``catalog/`` folder). An import downloads the entry's file through the cache (``fetch``),
verifies size and checksum, reads and validates it as a table, and adds it as a dataset
version carrying its attribution: source, licence, citation, retrieval time and checksum.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from modelyard.access import AccessGuard
from modelyard.datasets.catalog.fetch import Fetcher, Progress
from modelyard.datasets.catalog.model import CatalogEntry, CatalogFile, parse_entry
from modelyard.datasets.model import DatasetVersion
from modelyard.datasets.rules import ColumnRule, DatasetSchema
from modelyard.datasets.service import DatasetService
from modelyard.errors import InvalidInputError, NotFoundError

__all__ = ["BUILTIN_ENTRIES", "CatalogService", "ImportResult"]

#: The folder of the entries shipped with modelyard.
BUILTIN_ENTRIES = Path(__file__).resolve().parent / "entries"
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class ImportResult:
    """What an import produced."""

    entry: str
    version: DatasetVersion
    created: bool
    downloaded: bool
    bytes_transferred: int
    retrieved_from: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "name": self.version.name,
            "version": self.version.version,
            "content_hash": self.version.content_hash,
            "rows": self.version.rows,
            "columns": self.version.columns,
            "created": self.created,
            "downloaded": self.downloaded,
            "bytes_transferred": self.bytes_transferred,
            "retrieved_from": self.retrieved_from,
            "attribution": self.version.attribution,
        }


class CatalogNotFoundError(NotFoundError):
    """No catalog entry with this id."""

    default_hint = "run `modelyard catalog list`"


class CatalogService:
    """Browse and import external datasets.

    Args:
        datasets: the dataset service imports add versions to.
        fetcher: downloads through the cache.
        guard: authorizes and audits (``catalog.read``, ``catalog.import``).
        extra_dirs: folders with more entry files (later folders override earlier ids).
    """

    def __init__(
        self,
        datasets: DatasetService,
        fetcher: Fetcher,
        guard: AccessGuard,
        *,
        extra_dirs: Sequence[Path] = (),
    ) -> None:
        self._datasets = datasets
        self._fetcher = fetcher
        self._guard = guard
        self._dirs = (BUILTIN_ENTRIES, *extra_dirs)

    def _load(self) -> dict[str, CatalogEntry]:
        entries: dict[str, CatalogEntry] = {}
        for folder in self._dirs:
            if not folder.is_dir():
                continue
            for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
                entry_id = path.stem
                if not _ID.match(entry_id):
                    continue
                try:
                    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
                    raise InvalidInputError(
                        f"catalog entry {str(path)!r} is not readable YAML: {exc}",
                        hint="fix or remove the file",
                    ) from exc
                entries[entry_id] = parse_entry(entry_id, doc, origin=str(path))
        return entries

    def list_entries(self) -> list[CatalogEntry]:
        """Every entry, sorted by id."""
        self._guard.check("catalog.read", "catalog/*")
        return [entry for _, entry in sorted(self._load().items())]

    def get(self, entry_id: str) -> CatalogEntry:
        """One entry.

        Raises:
            CatalogNotFoundError: no entry with this id.
        """
        self._guard.check("catalog.read", f"catalog/{entry_id}")
        entries = self._load()
        if entry_id not in entries:
            raise CatalogNotFoundError(
                f"no catalog entry {entry_id!r}; entries: {', '.join(sorted(entries))}"
            )
        return entries[entry_id]

    def import_(
        self,
        entry_id: str,
        *,
        name: str | None = None,
        source: str | None = None,
        use_mirror: bool = True,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Download (or take from the cache), verify and add an entry's data as a version.

        Args:
            entry_id: the catalog entry (``modelyard catalog list``).
            name: the dataset name (default: the entry's ``Dataset``, else its id).
            source: fetch from this address instead (a mirror); checksums still apply.
            use_mirror: prefer the entry's shipped local mirror (offline) when it has one.
            progress: called with (bytes so far, total bytes or None).

        Raises:
            CatalogNotFoundError: unknown entry.
            InvalidInputError: the entry has no downloadable file, or the download is truncated
                or not a valid table.
            ChecksumMismatchError: the download is corrupt.
            SchemaViolationError: the data does not match the entry's schema.
        """
        entry = self.get(entry_id)
        dataset = name or entry.dataset
        self._guard.check("catalog.import", f"catalog/{entry_id}")
        if not entry.files:
            raise InvalidInputError(
                f"catalog entry {entry_id!r} has no downloadable file (browse only)",
                hint=f"download a file from {entry.source} yourself and use "
                "`modelyard datasets add PATH --name NAME`",
            )
        spec = entry.files[0]
        address = source or self._address(entry, spec, use_mirror)
        region = next((str(r["Region"]) for r in entry.resources if r.get("Region")), None)
        with tempfile.TemporaryDirectory(prefix="modelyard-import-") as scratch:
            fetched = self._fetcher.fetch(
                address,
                Path(scratch),
                expected_sha256=spec.sha256,
                expected_size=spec.size_bytes,
                region=region,
                progress=progress,
            )
            attribution = {
                "catalog_entry": entry.id,
                "title": entry.name,
                "source": spec.url,
                "retrieved_from": address,
                "license": entry.license,
                "citation": entry.citation,
                "documentation": entry.documentation,
                "retrieved_at": datetime.now(UTC).isoformat(),
                "sha256": fetched.sha256,
                "size_bytes": fetched.size_bytes,
            }
            schema = (
                DatasetSchema(
                    columns={c: ColumnRule(type=t) for c, t in entry.schema.items()},
                )
                if entry.schema
                else None
            )
            options = entry.read_options
            added = self._datasets.add_file(
                fetched.path,
                name=dataset,
                missing_tokens=options.missing_tokens,
                keep_values=options.keep_values,
                dtypes=options.dtypes,
                member=spec.member,
                separator=options.separator,
                schema=schema,
                description=entry.name,
                source=spec.url,
                attribution=attribution,
            )
        return ImportResult(
            entry=entry.id,
            version=added.version,
            created=added.created,
            downloaded=fetched.downloaded,
            bytes_transferred=fetched.bytes_transferred,
            retrieved_from=address,
        )

    def _address(self, entry: CatalogEntry, spec: CatalogFile, use_mirror: bool) -> str:
        if use_mirror and spec.mirror:
            base = Path(entry.origin).parent if entry.origin else BUILTIN_ENTRIES
            mirror = Path(spec.mirror)
            path = mirror if mirror.is_absolute() else (base / mirror).resolve()
            if path.is_file():
                return path.as_uri()
        return spec.url
