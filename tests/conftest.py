"""Shared by the tests: the data folder checked out beside the project (``../shared/data``)."""

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """``shared_data("text", "tinyshakespeare.txt")``: that path under ``../shared/data``; the
    test is skipped, naming the path, when it is absent."""
    def path(*parts: str) -> Path:
        found = SHARED_DATA.joinpath(*parts)
        if not found.exists():
            pytest.skip(f"{found} is absent (../shared/data is not checked out beside the "
                        "project)")
        return found

    return path
