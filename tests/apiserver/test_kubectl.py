"""kubectl against the stand-in: discovery, validation, create, apply, get,
delete, as a user would run them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from lab.apiserver.testing import ApiServerProcess

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")

MANIFEST = """
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  nodeName: node-a
  containers:
  - name: nginx
    image: nginx:1.25
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: web
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{ports: [{port: 80}]}]
"""

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: nodeconfigs.kubectl.contiv.io
spec:
  group: kubectl.contiv.io
  scope: Cluster
  names: {kind: NodeConfig, plural: nodeconfigs, singular: nodeconfig}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"""


def kubectl(server: ApiServerProcess, tmp_path: Path, *args: str, stdin: str | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    # An empty kubeconfig and a cache of this test's own, so nothing from
    # the machine's own configuration leaks in.
    command = ["kubectl", "--server", server.url, "--kubeconfig", "/dev/null",
               "--cache-dir", str(tmp_path / "kube-cache"), "--namespace", "kubectl-test", *args]
    result = subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, f"{' '.join(args)}: {result.stderr}"
    return result


def test_kubectl_create_get_apply_delete(apiserver: ApiServerProcess, tmp_path: Path) -> None:
    kubectl(apiserver, tmp_path, "create", "namespace", "kubectl-test")
    try:
        manifest = tmp_path / "web.yaml"
        manifest.write_text(MANIFEST)
        created = kubectl(apiserver, tmp_path, "create", "-f", str(manifest))
        assert created.stdout.split("\n")[:3] == [
            "pod/web created", "service/web created", "networkpolicy.networking.k8s.io/web created"]

        pod = yaml.safe_load(kubectl(apiserver, tmp_path, "get", "pod", "web", "-o", "yaml").stdout)
        assert pod["status"]["phase"] == "Pending" and pod["spec"]["nodeName"] == "node-a"
        svc = json.loads(kubectl(apiserver, tmp_path, "get", "svc", "web", "-o", "json").stdout)
        assert svc["spec"]["clusterIP"].startswith("10.") and svc["spec"]["ports"][0]["targetPort"] == 80
        listed = kubectl(apiserver, tmp_path, "get", "pods,services,networkpolicies")
        assert "pod/web" in listed.stdout and "service/web" in listed.stdout
        # Server-side printing: the columns kubectl shows for a real cluster.
        wide = kubectl(apiserver, tmp_path, "get", "pods", "-o", "wide").stdout.splitlines()
        assert wide[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
        assert wide[1].split()[:3] == ["web", "0/1", "Pending"] and wide[1].split()[-1] == "node-a"
        services = kubectl(apiserver, tmp_path, "get", "services").stdout.splitlines()
        assert services[1].split()[:2] == ["web", "ClusterIP"] and "80/TCP" in services[1]

        missing = kubectl(apiserver, tmp_path, "get", "pod", "nope", check=False)
        assert missing.returncode != 0 and 'pods "nope" not found' in missing.stderr
        duplicate = kubectl(apiserver, tmp_path, "create", "-f", str(manifest), check=False)
        assert duplicate.returncode != 0 and "AlreadyExists" in duplicate.stderr

        # apply: first creates with the last-applied annotation, then patches.
        policy = tmp_path / "policy.yaml"
        policy.write_text(MANIFEST.split("---")[2].replace("name: web", "name: applied"))
        assert "created" in kubectl(apiserver, tmp_path, "apply", "-f", str(policy)).stdout
        policy.write_text(policy.read_text().replace("port: 80", "port: 8080"))
        assert "configured" in kubectl(apiserver, tmp_path, "apply", "-f", str(policy)).stdout
        applied = json.loads(kubectl(apiserver, tmp_path, "get", "netpol", "applied", "-o", "json").stdout)
        assert applied["spec"]["ingress"][0]["ports"] == [{"port": 8080, "protocol": "TCP"}]
        assert "kubectl.kubernetes.io/last-applied-configuration" in applied["metadata"]["annotations"]

        kubectl(apiserver, tmp_path, "label", "pod", "web", "tier=front")
        assert kubectl(apiserver, tmp_path, "get", "pods", "-l", "tier=front", "-o", "name").stdout.strip() == \
            "pod/web"

        deleted = kubectl(apiserver, tmp_path, "delete", "-f", str(manifest))
        assert 'pod "web" deleted' in deleted.stdout
        assert "No resources found" in kubectl(apiserver, tmp_path, "get", "pods").stderr
    finally:
        kubectl(apiserver, tmp_path, "delete", "namespace", "kubectl-test", check=False)


def test_kubectl_with_a_crd(apiserver: ApiServerProcess, tmp_path: Path) -> None:
    crd = tmp_path / "crd.yaml"
    crd.write_text(CRD)
    kubectl(apiserver, tmp_path, "apply", "-f", str(crd))
    try:
        kubectl(apiserver, tmp_path, "wait", "--for=condition=Established", "crd/nodeconfigs.kubectl.contiv.io",
                "--timeout=10s")
        resource = tmp_path / "nc.yaml"
        resource.write_text("apiVersion: kubectl.contiv.io/v1\nkind: NodeConfig\nmetadata: {name: node-a}\n"
                            "spec: {mainInterface: eth0}\n")
        assert "created" in kubectl(apiserver, tmp_path, "apply", "-f", str(resource)).stdout
        resource.write_text(resource.read_text().replace("eth0", "eth1"))
        assert "configured" in kubectl(apiserver, tmp_path, "apply", "-f", str(resource)).stdout
        got = yaml.safe_load(kubectl(apiserver, tmp_path, "get", "nodeconfig", "node-a", "-o", "yaml").stdout)
        assert got["spec"] == {"mainInterface": "eth1"}
        kubectl(apiserver, tmp_path, "delete", "nodeconfigs", "node-a")
    finally:
        kubectl(apiserver, tmp_path, "delete", "-f", str(crd), check=False)
