"""Bad requests get a clear gRPC error and change nothing, in Linux or on disk."""

from __future__ import annotations

import grpc
import pytest

from stn.client import StnClient, StnClientError
from tests.stn.stn_testlib import ip

pytestmark = pytest.mark.root


async def _error(call) -> StnClientError:
    with pytest.raises(StnClientError) as err:
        await call
    return err.value


async def test_unknown_interface_is_not_found_and_changes_nothing(node, start_daemon):
    before = {dev: node.snapshot(dev) for dev in node.nics}
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        err = await _error(stn.steal("eth9"))
        assert err.code is grpc.StatusCode.NOT_FOUND
        assert "eth9" in err.details and node.ns in err.details
        for call in (stn.release("eth9"), stn.info("eth9"), stn.release("nic0"), stn.info("nic0")):
            assert (await _error(call)).code is grpc.StatusCode.NOT_FOUND
        assert await stn.list() == []
    assert {dev: node.snapshot(dev) for dev in node.nics} == before
    assert list(daemon.state_dir.glob("*.json")) == []


@pytest.mark.parametrize("name", ["", "x" * 16, "bad/name", "has space", "lo"])
async def test_invalid_names_and_loopback_are_invalid_arguments(node, start_daemon, name):
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        err = await _error(stn.steal(name))
        assert err.code is grpc.StatusCode.INVALID_ARGUMENT
        assert err.details
        assert await stn.list() == []
    assert list(daemon.state_dir.glob("*.json")) == []


async def test_second_steal_is_already_exists_and_keeps_the_first_record(node, start_daemon):
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        first = await stn.steal("nic0")
        on_disk = daemon.record_path("nic0").read_bytes()
        err = await _error(stn.steal("nic0", dhcp=True))
        assert err.code is grpc.StatusCode.ALREADY_EXISTS
        assert "already stolen" in err.details
        # The second call must not overwrite the saved configuration with the stripped one.
        assert await stn.info("nic0") == first
    assert daemon.record_path("nic0").read_bytes() == on_disk


async def test_release_while_the_link_is_away_is_a_failed_precondition(node, start_daemon):
    """A NIC still held by the dataplane (here: moved out of the namespace) keeps its record."""
    before = node.snapshot("nic1")
    daemon = start_daemon()
    async with StnClient(str(daemon.socket)) as stn:
        saved = await stn.steal("nic1")
        ip(node.ns, "link", "set", "nic1", "netns", node.gw)
        err = await _error(stn.release("nic1"))
        assert err.code is grpc.StatusCode.FAILED_PRECONDITION
        assert "nic1" in err.details
        assert await stn.info("nic1") == saved

        ip(node.gw, "link", "set", "nic1", "netns", node.ns)
        await stn.release("nic1")
    node.wait_restored("nic1", before)
