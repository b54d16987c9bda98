"""tap_create_v3 depends on /dev/vhost-net exactly as on a real host."""

from __future__ import annotations

from vpp_papi import VPPApiClient

from lab.vpp_standin import Retval, StandinThread

from .helpers import NO_INDEX

POD_TAP = {
    "id": NO_INDEX,
    "host_if_name_set": True,
    "host_if_name": "tap-pod1",
    "host_namespace_set": True,
    "host_namespace": "pod1",
    "host_ip4_prefix_set": True,
    "host_ip4_prefix": "10.1.1.2/24",
    "host_mtu_set": True,
    "host_mtu_size": 1450,
    "tag": "default/pod1",
}


def test_tap_without_vhost_net_fails_like_vpp(client: VPPApiClient, server: StandinThread) -> None:
    reply = client.api.tap_create_v3(**POD_TAP)
    assert reply.retval == Retval.SYSCALL_ERROR_1 == -11
    assert reply.sw_if_index == NO_INDEX
    assert client.api.sw_interface_tap_v2_dump() == []
    assert [i.name for i in server.snapshot().interfaces] == ["local0"]


def test_tap_with_vhost_net(client: VPPApiClient, server: StandinThread) -> None:
    server.configure(vhost_net=True)
    api = client.api
    reply = api.tap_create_v3(**POD_TAP)
    assert reply.retval == 0

    [details] = api.sw_interface_tap_v2_dump()
    assert details.sw_if_index == reply.sw_if_index
    assert (details.id, details.dev_name, details.host_if_name, details.host_namespace) == (0, "tap0", "tap-pod1", "pod1")
    assert str(details.host_ip4_prefix) == "10.1.1.2/24"
    assert details.host_mtu_size == 1450
    [iface] = api.sw_interface_dump(sw_if_index=reply.sw_if_index)
    assert (iface.interface_name, iface.interface_dev_type, iface.tag) == ("tap0", "tap", "default/pod1")

    # Same id, then same host name: both refused the way VPP refuses them.
    assert api.tap_create_v3(**dict(POD_TAP, id=0, host_if_name="other")).retval == Retval.INVALID_INTERFACE
    assert api.tap_create_v3(**POD_TAP).retval == Retval.SYSCALL_ERROR_3
    second = api.tap_create_v3(**dict(POD_TAP, host_if_name="tap-pod2"))
    assert second.retval == 0
    assert [d.id for d in api.sw_interface_tap_v2_dump()] == [0, 1]
    assert [d.id for d in api.sw_interface_tap_v2_dump(sw_if_index=second.sw_if_index)] == [1]

    assert api.tap_delete_v2(sw_if_index=reply.sw_if_index).retval == 0
    assert api.tap_delete_v2(sw_if_index=reply.sw_if_index).retval == Retval.INVALID_SW_IF_INDEX
    # tap_delete_v2 only deletes taps.
    assert api.tap_delete_v2(sw_if_index=0).retval == Retval.INVALID_SW_IF_INDEX

    # Switching vhost-net off again takes effect on the next create.
    server.configure(vhost_net=False)
    assert api.tap_create_v3(**dict(POD_TAP, host_if_name="tap-pod3")).retval == -11


def test_tap_namespace_check(client: VPPApiClient, server: StandinThread) -> None:
    server.configure(vhost_net=True, check_host_namespaces=True)
    reply = client.api.tap_create_v3(**dict(POD_TAP, host_namespace="no-such-netns-xyz"))
    assert reply.retval == Retval.SYSCALL_ERROR_2
