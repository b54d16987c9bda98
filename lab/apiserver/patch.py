"""The three patch formats Kubernetes clients send: JSON merge patch
(RFC 7386), JSON patch (RFC 6902), and strategic merge patch, which here is a
merge patch that also merges the lists Kubernetes merges by key (containers by
name, ports by port, conditions by type...) and understands the directives
kubectl apply puts in its patches."""

from __future__ import annotations

import copy
from typing import Any

from lab.apiserver.errors import ApiError, bad_request, unsupported_media_type

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


def apply_patch(content_type: str, original: dict[str, Any], patch: Any) -> dict[str, Any]:
    media = content_type.split(";")[0].strip().lower()
    if media == MERGE:
        _require_object(patch)
        return merge_patch(original, patch)
    if media == STRATEGIC:
        _require_object(patch)
        return strategic_merge_patch(original, patch)
    if media == JSON_PATCH:
        if not isinstance(patch, list):
            raise bad_request("json: cannot unmarshal object into Go value of type []jsonpatch.operation")
        return json_patch(original, patch)
    raise unsupported_media_type(content_type)


def _require_object(patch: Any) -> None:
    if not isinstance(patch, dict):
        raise bad_request("the body of a merge patch must be a JSON object")


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- strategic merge patch ----------------------------------------------------------------

# The merge key of each list that Kubernetes merges element by element rather
# than replacing, by field name (the same name means the same key in every
# kind this server serves, except `ports`, which depends on where it is).
_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
    "env": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath", "conditions": "type",
    "podIPs": "ip", "hostIPs": "ip", "tolerations": None, "finalizers": None, "ownerReferences": "uid",
    "addresses": "type", "containerStatuses": "name", "initContainerStatuses": "name",
}
_SET_ORDER = "$setElementOrder/"
_DELETE_PRIMITIVE = "$deleteFromPrimitiveList/"


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port" if "port" in sample else None
    return _MERGE_KEYS.get(field)


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith(_SET_ORDER) or key in ("$retainKeys", "$patch"):
            continue
        if key.startswith(_DELETE_PRIMITIVE):
            field = key[len(_DELETE_PRIMITIVE):]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in value]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        elif isinstance(value, list):
            result[key] = [_strip_directives(v) for v in value if not _is_delete(v)]
        else:
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    if isinstance(retain, list):
        result = {k: v for k, v in result.items() if k in retain}
    return result


def _is_delete(item: Any) -> bool:
    return isinstance(item, dict) and item.get("$patch") == "delete"


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def _merge_list(field: str, current: list[Any], patch: list[Any]) -> list[Any]:
    key = _merge_key(field, current + patch)
    if key is None or not all(isinstance(i, dict) and key in i for i in patch if not _is_replace(i)):
        return [_strip_directives(v) for v in patch if not _is_delete(v) and not _is_replace(v)]
    if any(_is_replace(i) for i in patch):
        return [_strip_directives(v) for v in patch if not _is_replace(v)]
    result = [copy.deepcopy(i) for i in current]
    for item in patch:
        index = next((n for n, existing in enumerate(result)
                      if isinstance(existing, dict) and existing.get(key) == item[key]), None)
        if _is_delete(item):
            if index is not None:
                del result[index]
        elif index is None:
            result.append(_strip_directives(item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def _is_replace(item: Any) -> bool:
    return isinstance(item, dict) and item.get("$patch") == "replace"


# --- JSON patch ---------------------------------------------------------------------------

def json_patch(document: Any, operations: list[Any]) -> Any:
    doc = copy.deepcopy(document)
    for number, operation in enumerate(operations):
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise bad_request(f"json patch operation {number} needs 'op' and 'path'")
        op, path = operation["op"], _pointer(operation["path"])
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(_value(operation)))
        elif op == "remove":
            doc, _ = _remove(doc, path)
        elif op == "replace":
            _get(doc, path)
            doc, _ = _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(_value(operation)))
        elif op == "move":
            source = _pointer(_from(operation))
            doc, moved = _remove(doc, source)
            doc = _add(doc, path, moved)
        elif op == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, _pointer(_from(operation)))))
        elif op == "test":
            if _get(doc, path) != _value(operation):
                raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                               f"testing value {operation['path']} failed")
        else:
            raise bad_request(f"unexpected json patch operation {op!r}")
    return doc


def _value(operation: dict[str, Any]) -> Any:
    if "value" not in operation:
        raise bad_request(f"json patch operation {operation['op']} on {operation['path']} needs a 'value'")
    return operation["value"]


def _from(operation: dict[str, Any]) -> str:
    if "from" not in operation:
        raise bad_request(f"json patch operation {operation['op']} needs 'from'")
    return operation["from"]


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"json patch path {path!r} must start with '/'")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _missing(path: list[str]) -> ApiError:
    # The real server's message for a patch that points nowhere.
    return ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: "
                    f"doc is missing path: /{'/'.join(path)}")


def _parent(doc: Any, path: list[str]) -> Any:
    current = doc
    for part in path[:-1]:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise _missing(path)
    return current


def _get(doc: Any, path: list[str]) -> Any:
    if not path:
        return doc
    parent, last = _parent(doc, path), path[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise _missing(path)


def _add(doc: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent, last = _parent(doc, path), path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise _missing(path)
    else:
        raise _missing(path)
    return doc


def _remove(doc: Any, path: list[str]) -> tuple[Any, Any]:
    if not path:
        return None, doc
    parent, last = _parent(doc, path), path[-1]
    if isinstance(parent, dict) and last in parent:
        return doc, parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return doc, parent.pop(int(last))
    raise _missing(path)
