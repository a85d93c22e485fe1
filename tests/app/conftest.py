"""One `thidua dev up` subprocess for the CLI tests of tests/app (started on first use)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.devstack import DevStack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    stack = DevStack(tmp_path_factory.mktemp("thidua-dev"))
    stack.start()
    yield stack
    stack.close()
