"""Catalog entries: the AWS Open Data Registry's YAML format plus a ``Modelyard`` block.

The registry's own fields (``Name``, ``Description``, ``Documentation``, ``Contact``,
``ManagedBy``, ``UpdateFrequency``, ``Tags``, ``License``, ``Citation``, ``Resources``: a list
of ``{Description, ARN, Region, Type}``) are kept as they are, so an entry copied from
https://github.com/awslabs/open-data-registry reads unchanged. What an import needs and the
registry does not say lives under ``Modelyard``::

    Modelyard:
      Dataset: uci-diabetes-130          # dataset name to import into (default: the entry id)
      Size: 3.2 MB zip, 19.2 MB CSV      # shown when SizeBytes is unknown
      Rows: 101766
      Schema: {encounter_id: int, race: str, ...}
      Files:
        - Url: https://… | s3://bucket/key | file:///…
          Mirror: files/x.zip             # optional local copy (relative to the catalog folder)
          Member: diabetic_data.csv       # the CSV inside a zip
          SizeBytes: 3171487
          Sha256: 317d6d5a…
          Md5: a00763be…
      ReadOptions: {MissingTokens: ["?"], KeepValues: ["None"], Dtypes: {col: str}}

Pure: parses already-loaded YAML documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelyard.datasets.model import TYPE_NAMES, ReadOptions
from modelyard.errors import InvalidInputError

__all__ = ["CatalogEntry", "CatalogFile", "parse_entry"]

_REQUIRED = ("Name", "Description", "License", "Resources")


@dataclass(frozen=True)
class CatalogFile:
    """One downloadable file of an entry."""

    url: str
    mirror: str | None = None
    member: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    md5: str | None = None
    format: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "mirror": self.mirror,
            "member": self.member,
            "size_bytes": self.size_bytes,
            "sha256": self.sha256,
            "md5": self.md5,
            "format": self.format,
        }


@dataclass(frozen=True)
class CatalogEntry:
    """A browsable external dataset."""

    id: str
    name: str
    description: str
    documentation: str
    contact: str
    managed_by: str
    update_frequency: str
    license: str
    citation: str
    tags: tuple[str, ...]
    resources: tuple[Mapping[str, Any], ...]
    dataset: str
    size: str
    rows: int | None
    schema: Mapping[str, str]
    files: tuple[CatalogFile, ...]
    read_options: ReadOptions = field(default_factory=ReadOptions)
    origin: str = ""  # the YAML file it came from

    @property
    def source(self) -> str:
        """The source address: the first file's URL, else the first resource's ARN."""
        if self.files:
            return self.files[0].url
        first = self.resources[0] if self.resources else {}
        return str(first.get("ARN") or first.get("URL") or "")

    @property
    def size_text(self) -> str:
        known = [f.size_bytes for f in self.files if f.size_bytes]
        if known and len(known) == len(self.files):
            total = sum(known)
            return f"{total} bytes ({total / 1e6:.1f} MB)" + (f"; {self.size}" if self.size else "")
        return self.size or "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "documentation": self.documentation,
            "contact": self.contact,
            "managed_by": self.managed_by,
            "update_frequency": self.update_frequency,
            "license": self.license,
            "citation": self.citation,
            "tags": list(self.tags),
            "source": self.source,
            "size": self.size_text,
            "rows": self.rows,
            "schema": dict(self.schema),
            "resources": [dict(r) for r in self.resources],
            "files": [f.to_dict() for f in self.files],
            "dataset": self.dataset,
            "read_options": self.read_options.to_dict(),
        }


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _digest(value: Any, width: int) -> str | None:
    """A hex digest; YAML reads an all-digit digest as a number, so pad it back."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).zfill(width)
    return str(value).strip().lower()


def parse_entry(entry_id: str, doc: Any, origin: str = "") -> CatalogEntry:
    """Build an entry from a parsed YAML document.

    Raises:
        InvalidInputError: a required registry field is missing or a field is malformed.
    """
    where = origin or entry_id
    if not isinstance(doc, Mapping):
        raise InvalidInputError(f"catalog entry {where!r} is not a YAML mapping")
    missing = [k for k in _REQUIRED if not doc.get(k)]
    if missing:
        raise InvalidInputError(
            f"catalog entry {where!r} lacks required fields: {', '.join(missing)}",
            hint="entries follow the AWS Open Data Registry format (Name, Description, "
            "License, Resources, …)",
        )
    resources = doc["Resources"]
    if not isinstance(resources, list) or not all(isinstance(r, Mapping) for r in resources):
        raise InvalidInputError(f"catalog entry {where!r}: Resources must be a list of mappings")
    ours = doc.get("Modelyard") or {}
    if not isinstance(ours, Mapping):
        raise InvalidInputError(f"catalog entry {where!r}: Modelyard must be a mapping")
    files = []
    for raw in ours.get("Files") or []:
        if not isinstance(raw, Mapping) or not raw.get("Url"):
            raise InvalidInputError(f"catalog entry {where!r}: every file needs a Url")
        files.append(
            CatalogFile(
                url=str(raw["Url"]),
                mirror=raw.get("Mirror"),
                member=raw.get("Member"),
                size_bytes=int(raw["SizeBytes"]) if raw.get("SizeBytes") is not None else None,
                sha256=_digest(raw.get("Sha256"), 64),
                md5=_digest(raw.get("Md5"), 32),
                format=raw.get("Format"),
            )
        )
    schema = dict(ours.get("Schema") or {})
    bad = sorted(c for c, t in schema.items() if t not in TYPE_NAMES)
    if bad:
        raise InvalidInputError(
            f"catalog entry {where!r}: unknown column types for {', '.join(bad)}",
            hint=f"use one of: {', '.join(TYPE_NAMES)}",
        )
    raw_options = ours.get("ReadOptions") or {}
    options = ReadOptions(
        missing_tokens=tuple(raw_options.get("MissingTokens", ("",))),
        keep_values=tuple(raw_options.get("KeepValues", ())),
        dtypes=dict(raw_options.get("Dtypes") or {}),
        separator=str(raw_options.get("Separator", ",")),
    )
    tags = doc.get("Tags") or []
    return CatalogEntry(
        id=entry_id,
        name=_text(doc["Name"]),
        description=_text(doc["Description"]),
        documentation=_text(doc.get("Documentation")),
        contact=_text(doc.get("Contact")),
        managed_by=_text(doc.get("ManagedBy")),
        update_frequency=_text(doc.get("UpdateFrequency")),
        license=_text(doc["License"]),
        citation=_text(doc.get("Citation")),
        tags=tuple(str(t) for t in tags),
        resources=tuple(dict(r) for r in resources),
        dataset=str(ours.get("Dataset") or entry_id),
        size=_text(ours.get("Size")),
        rows=int(ours["Rows"]) if ours.get("Rows") is not None else None,
        schema=schema,
        files=tuple(files),
        read_options=options,
        origin=origin,
    )
