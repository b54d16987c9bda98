from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab.labtest import Lab


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One two-node lab for the module: bringing one up takes seconds."""
    the_lab = Lab(tmp_path_factory.mktemp("lab") / "state", nodes=2)
    try:
        the_lab.up()
        yield the_lab
    finally:
        done = the_lab.down()
        assert done.returncode == 0, done.stderr
        assert the_lab.leftovers() == []
