"""Where the playbook, the migrations and the example chat file are: inside the package when it was installed from a
wheel (bot/_data/…, see pyproject.toml), at the top of the repository in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """`plays`, `migrations` or `examples`, wherever this installation keeps it."""
    packaged = _PACKAGE / "_data" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name
