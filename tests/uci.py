"""The UCI diabetes data for tests: the copy that ships inside the package (offline, in CI)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import polars as pl

import modelyard.datasets.catalog as catalog_pkg
from modelyard.adherence import load_uci

UCI_ZIP = Path(catalog_pkg.__file__).parent / "files" / "diabetes_130_us_hospitals.zip"


def uci_zip() -> Path:
    """The shipped UCI zip (diabetic_data.csv inside)."""
    if not UCI_ZIP.is_file():
        raise FileNotFoundError(f"the shipped UCI zip is missing: {UCI_ZIP}")
    return UCI_ZIP


@cache
def uci_sample(n_rows: int = 3000) -> pl.DataFrame:
    """The first ``n_rows`` encounters, typed as the adherence use case reads them."""
    return load_uci(uci_zip(), n_rows=n_rows)


@cache
def uci_raw_csv(n_rows: int = 3000) -> str:
    """The first ``n_rows`` encounters as the raw CSV text (``?`` for missing)."""
    import io
    import itertools
    import zipfile

    with zipfile.ZipFile(uci_zip()) as zf:
        member = next(n for n in zf.namelist() if n.endswith("diabetic_data.csv"))
        with zf.open(member) as fh:
            lines = itertools.islice(io.TextIOWrapper(fh, encoding="utf-8"), n_rows + 1)
            return "".join(lines)
