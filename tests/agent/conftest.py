from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agent.nodefixture import TestNode, make_node


@pytest.fixture
def node(tmp_path: Path) -> Iterator[TestNode]:
    test_node = make_node(tmp_path)
    try:
        test_node.setup()
        yield test_node
    finally:
        test_node.teardown()
