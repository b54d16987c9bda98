"""Helpers for the API stand-in's tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from lab.apiserver.testing import ApiServerProcess


def api_client(server: ApiServerProcess) -> client.ApiClient:
    configuration = client.Configuration()
    configuration.host = server.url
    return client.ApiClient(configuration)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def status_of(error: ApiException) -> dict[str, Any]:
    """The Status object the server sent with a failure."""
    body = json.loads(error.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == error.status
    return body


def pod(name: str, node: str = "node-a", labels: dict[str, str] | None = None) -> client.V1Pod:
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(node_name=node, containers=[client.V1Container(name="main", image="busybox:1.36")]))


def raw_call(api: client.ApiClient, method: str, path: str, body: Any = None,
             content_type: str = "application/json") -> Any:
    """A request the typed API cannot make (a malformed body, a wrong path),
    through the official client's transport; failures raise ApiException."""
    _, url, headers, serialized, _ = api.param_serialize(
        method, path, header_params={"Content-Type": content_type, "Accept": "application/json"}, body=body)
    response = api.call_api(method, url, header_params=headers, body=serialized)
    response.read()
    return api.response_deserialize(response, {"2XX": "object"}).data
