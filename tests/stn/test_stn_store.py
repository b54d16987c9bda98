"""The on-disk records and the wire format keep every saved detail (no root needed)."""

from __future__ import annotations

import os

import pytest

from stn.convert import stolen_from_pb, stolen_to_pb
from stn.models import Family, LinkInfo, Phase, SavedAddress, SavedRoute, StolenInterface
from stn.store import StateDirBusy, StateStore


def _record(name: str = "eth0", phase: Phase = Phase.STOLEN) -> StolenInterface:
    return StolenInterface(
        interface_name=name,
        dhcp_enabled=True,
        phase=phase,
        link=LinkInfo(name=name, index=2, mac_address="52:54:00:12:34:56", mtu=9000, admin_up=True,
                      oper_state="UP", pci_address="0000:00:03.0", driver="virtio_net"),
        addresses=(
            SavedAddress(family=Family.INET, address="192.0.2.10", prefix_len=24, broadcast="192.0.2.255",
                         label=name, valid_lifetime=3600, preferred_lifetime=1800, protocol=0),
            SavedAddress(family=Family.INET6, address="2001:db8::10", prefix_len=64, flags=0x82),
        ),
        routes=(
            SavedRoute(family=Family.INET, gateway="192.0.2.1", metric=100, protocol=16),
            SavedRoute(family=Family.INET, destination="198.51.100.0", dst_len=24, scope=253, table=100,
                       protocol=4, preferred_source="192.0.2.10", metrics={"mtu": 1400}),
            SavedRoute(family=Family.INET6, destination="2001:db8:1::", dst_len=48, gateway="2001:db8::1",
                       metric=1024, ipv6_preference=1),
        ),
        netns="node1",
    )


def test_records_survive_the_disk_and_the_wire(tmp_path):
    store = StateStore(tmp_path)
    record = _record()
    store.save(record)
    assert store.load_all() == [record]
    assert stolen_from_pb(stolen_to_pb(record)) == record
    assert record.default_routes == (record.routes[0],)
    assert os.stat(store.path_of("eth0")).st_mode & 0o777 == 0o600


def test_a_phase_change_replaces_the_record_and_delete_forgets_it(tmp_path):
    store = StateStore(tmp_path)
    store.save(_record(phase=Phase.STEALING))
    store.save(_record(phase=Phase.RESTORING))
    assert [r.phase for r in store.load_all()] == [Phase.RESTORING]
    store.delete("eth0")
    store.delete("eth0")  # forgetting twice is harmless, as a repeated restore needs
    assert store.load_all() == []


def test_a_corrupt_record_is_left_alone_and_others_still_load(tmp_path):
    store = StateStore(tmp_path)
    store.save(_record("eth1"))
    (tmp_path / "eth0.json").write_text("{not json")
    assert [r.interface_name for r in store.load_all()] == ["eth1"]
    assert (tmp_path / "eth0.json").read_text() == "{not json"


def test_names_that_could_escape_the_directory_are_refused(tmp_path):
    store = StateStore(tmp_path)
    for name in ("../etc", "a/b", "", ".."):
        with pytest.raises(ValueError):
            store.path_of(name)


def test_one_daemon_per_state_dir(tmp_path):
    first = StateStore(tmp_path)
    first.lock()
    try:
        with pytest.raises(StateDirBusy):
            StateStore(tmp_path).lock()
    finally:
        first.unlock()
    second = StateStore(tmp_path)
    second.lock()
    second.unlock()
