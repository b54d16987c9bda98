"""Injected failures and the call counters."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from vpp_papi import VPPApiClient

from lab.vpp_standin import FaultAction, FaultRule, StandinThread, wait_until


def test_next_n_calls_return_the_injected_retval(client: VPPApiClient, server: StandinThread) -> None:
    server.add_fault(FaultRule(message="af_packet_create_v3", retval=-11, count=2))
    api = client.api
    first = api.af_packet_create_v3(host_if_name="veth-f", mode=1)
    second = api.af_packet_create_v3(host_if_name="veth-f", mode=1)
    third = api.af_packet_create_v3(host_if_name="veth-f", mode=1)
    assert (first.retval, second.retval, third.retval) == (-11, -11, 0)
    # A faulted call never touches the dataplane.
    assert len(api.af_packet_dump()) == 1
    snap = server.snapshot()
    assert snap.pending_faults == []
    assert snap.counters.faults_fired == 2
    assert snap.counters.failed["af_packet_create_v3"] == 2
    assert snap.counters.calls["af_packet_create_v3"] == 3


def test_unlimited_fault_until_cleared(client: VPPApiClient, server: StandinThread) -> None:
    server.add_fault(FaultRule(message="ip_table_add_del_v2", retval=-3, count=None))
    for _ in range(3):
        assert client.api.ip_table_add_del_v2(table={"table_id": 5}, is_add=True).retval == -3
    server.call(lambda s: s.faults.clear())
    assert client.api.ip_table_add_del_v2(table={"table_id": 5}, is_add=True).retval == 0


def test_faulted_dump_returns_nothing(client: VPPApiClient, server: StandinThread) -> None:
    server.add_fault(FaultRule(message="sw_interface_dump", retval=-1))
    assert client.api.sw_interface_dump() == []
    assert [d.interface_name for d in client.api.sw_interface_dump()] == ["local0"]


def test_dropped_reply_times_out_and_the_client_carries_on(
    server: StandinThread, make_client: Callable[..., VPPApiClient]
) -> None:
    client = make_client(read_timeout=0.5)
    server.add_fault(FaultRule(message="show_version", action=FaultAction.DROP))
    with pytest.raises(IOError):
        client.api.show_version()
    assert client.api.show_version().retval == 0


def test_disconnect_fault_cuts_the_client(server: StandinThread, make_client: Callable[..., VPPApiClient]) -> None:
    client = make_client(read_timeout=2)
    server.add_fault(FaultRule(message="sw_interface_dump", action=FaultAction.DISCONNECT))
    with pytest.raises(IOError):
        client.api.sw_interface_dump()
    wait_until(lambda: server.snapshot().counters.connections_open == 0, what="connection closed")
    client.disconnect()
    client.connect("again")
    assert client.api.control_ping().retval == 0


def test_delay_fault_slows_one_call(client: VPPApiClient, server: StandinThread) -> None:
    server.add_fault(FaultRule(message="control_ping", action=FaultAction.DELAY, delay_s=0.3))
    started = time.monotonic()
    assert client.api.control_ping().retval == 0
    assert time.monotonic() - started >= 0.3


def test_counters_count_per_message_and_reset(client: VPPApiClient, server: StandinThread) -> None:
    for _ in range(5):
        client.api.show_version()
    client.api.sw_interface_dump()
    counters = server.snapshot().counters
    assert counters.calls["show_version"] == 5
    # A dump is the dump plus the control_ping vpp_papi sends behind it.
    assert counters.calls["sw_interface_dump"] == 1 and counters.calls["control_ping"] == 1
    server.call(lambda s: s.counters.reset())
    assert server.snapshot().counters.calls == {}
    assert server.snapshot().counters.connections_open == 1
