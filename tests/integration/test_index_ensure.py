"""Two harvest tasks starting at once both create the record index: neither may fail for it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from archive.config import Settings
from archive.index import open_index

pytestmark = pytest.mark.integration


def test_concurrent_ensure_creates_one_index_and_raises_nothing(settings: Settings) -> None:
    indices = [open_index(settings) for _ in range(6)]
    try:
        with ThreadPoolExecutor(len(indices)) as pool:
            list(pool.map(lambda index: index.ensure(), indices))  # a race here raised "already exists"
        assert list(indices[0].es.indices.get_alias(name=indices[0].alias)) == [indices[0].concrete]
    finally:
        indices[0].destroy()
