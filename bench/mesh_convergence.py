"""How fast an agent meshes with 200 nodes that appear at once, against the
raw netlink operations that mesh needs, in the same run.

    .venv/bin/python bench/mesh_convergence.py [--nodes 200]     (as root)

The agent runs in a node namespace; 200 NodeRecords are written straight to
etcd in a few transactions, and the clock stops when the node's kernel has a
route to every new pod subnet. The reference adds the same FDB entries,
neighbours and routes to an identical VXLAN device with pyroute2 directly,
one request at a time, in a scratch namespace. Ratio = agent / raw.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import print_table  # noqa: E402
from kvstore import EtcdConfig, KVStore, Op  # noqa: E402
from lab import netns as labns  # noqa: E402
from lab.etcd import EtcdServer  # noqa: E402
from model import NODE_RECORD, KeySpace, NodeRecord  # noqa: E402
from vswitch.dataplane.linux.netns import NetnsHandles  # noqa: E402
from vswitch.render.mesh import vxlan_mac  # noqa: E402

VENV_BIN = Path(sys.executable).parent
NODE, RAW, HOST_LINK = "bmesh-node", "bmesh-raw", "bmesh-h"


def remote_records(count: int) -> list[NodeRecord]:
    return [NodeRecord(id=i, name=f"remote-{i}", node_ip=f"10.200.{i >> 8}.{i & 0xFF}/16",
                       vxlan_ip=f"192.168.{30 + (i >> 8)}.{i & 0xFF}") for i in range(2, count + 2)]


async def routes_via_vxlan(handles: NetnsHandles, netns: str) -> int:
    ipr = await handles.get(netns)
    return len([r async for r in await ipr.route("dump") if r.get("proto") == 99 and r["dst_len"] == 24])


async def agent_convergence(tmp: Path, count: int) -> float:
    labns.add_netns(NODE)
    labns.link_to_host(NODE, HOST_LINK, "10.253.1.1/30", "10.253.1.2/30", "10.253.1.1")
    etcd = EtcdServer(tmp / "etcd", host="10.253.1.1")
    etcd.start()
    handles = NetnsHandles()
    agent = None
    try:
        env = {**os.environ, "CONTIV_AGENT_NODE_IP": "10.200.0.1/16",
               "CONTIV_AGENT_ADDRESSES__VXLAN_CIDR": "192.168.0.0/16",
               "CONTIV_AGENT_ADDRESSES__NODE_INTERCONNECT": "10.200.0.0/16"}
        agent = subprocess.Popen(labns.exec_in(NODE, str(VENV_BIN / "contiv-agent"), "--node", "bench",
                                               "--etcd-endpoints", etcd.endpoint, "--cni-socket", str(tmp / "cni.sock"),
                                               "--state-dir", str(tmp / "state"), "--rest-address", "10.253.1.2:9999",
                                               "--log-level", "warning"), env=env,
                                 stdout=open(tmp / "agent.log", "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not (tmp / "cni.sock").exists():
            if time.monotonic() > deadline:
                raise SystemExit("the agent did not start")
            await asyncio.sleep(0.05)
        keys = KeySpace()
        async with KVStore(EtcdConfig(endpoints=[etcd.endpoint])) as store:
            records = remote_records(count)
            started = time.perf_counter()
            for first in range(0, len(records), 100):
                await store.txn([], [Op.put(keys.key(NODE_RECORD, r.id), r) for r in records[first:first + 100]])
            while await routes_via_vxlan(handles, f"/var/run/netns/{NODE}") < count:
                if time.perf_counter() - started > 300:
                    raise SystemExit("the agent did not converge within 300 s")
                await asyncio.sleep(0.01)
            return time.perf_counter() - started
    finally:
        handles.close()
        if agent is not None:
            agent.send_signal(signal.SIGKILL)
            agent.wait()
        etcd.stop(kill=True)
        labns.delete_netns(NODE)
        labns.ip("link", "del", HOST_LINK, check=False)


async def raw_netlink(count: int) -> float:
    labns.add_netns(RAW)
    handles = NetnsHandles()
    try:
        ipr = await handles.get(f"/var/run/netns/{RAW}")
        await ipr.link("add", ifname="vxlan-raw", kind="vxlan", vxlan_id=10, vxlan_local="10.200.0.1",
                       vxlan_port=4789, vxlan_learning=0)
        index = (await ipr.link_lookup(ifname="vxlan-raw"))[0]
        await ipr.addr("add", index=index, address="192.168.30.1", prefixlen=16)
        await ipr.link("set", index=index, state="up")
        started = time.perf_counter()
        for record in remote_records(count):
            mac = vxlan_mac(record.id)
            await ipr.fdb("replace", ifindex=index, lladdr=mac, dst=record.node_ip.split("/")[0], state=0x80, flags=2)
            await ipr.neigh("replace", dst=record.vxlan_ip, lladdr=mac, ifindex=index, state=0x80)
            await ipr.route("replace", dst=f"10.1.{record.id}.0/24",
                            gateway=record.vxlan_ip, oif=index, proto=99)
        return time.perf_counter() - started
    finally:
        handles.close()
        labns.delete_netns(RAW)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=200)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the benchmark creates network namespaces")
    tmp = Path(tempfile.mkdtemp(prefix="bench-mesh-"))
    try:
        raw = asyncio.run(raw_netlink(args.nodes))
        agent = asyncio.run(agent_convergence(tmp, args.nodes))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_table(f"{args.nodes} node records appearing at once", ["path", "seconds", "ratio to raw netlink"],
                [["raw netlink (FDB + neighbour + route per node)", f"{raw:.3f}", "1.00"],
                 ["agent: etcd write to all routes in the kernel", f"{agent:.3f}", f"{agent / raw:.2f}"]])


if __name__ == "__main__":
    main()
