"""The external dataset catalog (AWS Open Data Registry format) and imports with a cache."""

from modelyard.datasets.catalog.fetch import Fetched, Fetcher
from modelyard.datasets.catalog.model import CatalogEntry, CatalogFile, parse_entry
from modelyard.datasets.catalog.service import (
    BUILTIN_ENTRIES,
    CatalogNotFoundError,
    CatalogService,
    ImportResult,
)

__all__ = [
    "BUILTIN_ENTRIES",
    "CatalogEntry",
    "CatalogFile",
    "CatalogNotFoundError",
    "CatalogService",
    "Fetched",
    "Fetcher",
    "ImportResult",
    "parse_entry",
]
