"""``python -m modelyard``."""

from modelyard.cli.main import run

run()
