# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An in-memory REST API and a stand-in AnsibleModule for the modules' flow tests.

The fake answers the same ``request(method, path, ...)`` call kube_access makes on
kubernetes.core's dynamic client: LIST (with fieldSelector metadata.name), GET and JSON/merge
PATCH, refusing a patch whose resulting resourceVersion differs from the stored one with 409,
as the API server does. Integration targets check the same flows against the real cluster.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import jsonpatch
import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_access


class ApiError(Exception):
    def __init__(self, status, reason, body=""):
        super(ApiError, self).__init__("({0}) {1}: {2}".format(status, reason, body))
        self.status, self.reason, self.body = status, reason, body


class Response:
    def __init__(self, payload):
        self.data = json.dumps(payload).encode("utf-8")


PLURAL_KIND = dict((plural, kind) for kind, (_prefix, plural) in kube_access.RESOURCES.items())


def _merge(target, patch):
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class FakeCluster:
    def __init__(self):
        self.objects = {}
        self.calls = []
        self.version = 100
        self.conflicts_to_inject = {}
        self.forbidden = set()
        self.forbidden_writes = set()

    def add(self, kind, obj):
        obj = copy.deepcopy(obj)
        self.version += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.version)
        self.objects[(kind, obj["metadata"].get("namespace"), obj["metadata"]["name"])] = obj
        return obj

    def obj(self, kind, namespace, name):
        return self.objects.get((kind, namespace, name))

    def writes(self):
        return [call for call in self.calls if call[0] not in ("list", "get")]

    def bump(self, kind, namespace, name, mutate):
        """A concurrent writer: change the stored object and its resourceVersion."""
        obj = self.objects[(kind, namespace, name)]
        mutate(obj)
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)

    def request(self, method, path, body=None, **params):
        parts = path.strip("/").split("/")
        for index, part in enumerate(parts):
            # "namespaces/<ns>/..." scopes a collection; "namespaces" alone would be the Namespace kind
            if part in PLURAL_KIND and not (part == "namespaces" and index + 2 < len(parts)):
                kind = PLURAL_KIND[part]
                name = parts[index + 1] if index + 1 < len(parts) else None
                namespace = parts[index - 1] if index >= 2 and parts[index - 2] == "namespaces" else None
                break
        verb = {"GET": "get" if name else "list", "PATCH": "patch", "POST": "create", "DELETE": "delete"}[method]
        if verb == "create":
            name = body["metadata"]["name"]
        self.calls.append((verb, kind, namespace, name))
        if kind in self.forbidden:
            raise ApiError(403, "Forbidden", "secret-bearing body")
        if verb == "create":
            if (kind, namespace, name) in self.objects:
                raise ApiError(409, "Conflict", "already exists")
            return Response(copy.deepcopy(self.add(kind, dict(body, metadata=dict(body["metadata"], uid="uid-" + name)))))
        if verb == "list":
            selector = params.get("field_selector") or ""
            items = [copy.deepcopy(o) for (k, ns, n), o in sorted(self.objects.items())
                     if k == kind and (namespace is None or ns == namespace)
                     and (not selector or selector == "metadata.name=" + n)]
            return Response({"items": items, "metadata": {"resourceVersion": str(self.version)}})
        stored = self.objects.get((kind, namespace, name))
        if stored is None:
            raise ApiError(404, "Not Found")
        if verb == "get":
            return Response(copy.deepcopy(stored))
        if verb == "delete":
            wanted = ((body or {}).get("preconditions") or {}).get("resourceVersion")
            if wanted and wanted != stored["metadata"]["resourceVersion"]:
                raise ApiError(409, "Conflict", "precondition failed")
            del self.objects[(kind, namespace, name)]
            return Response({"kind": "Status", "status": "Success"})
        if (kind, namespace, name) in self.forbidden_writes:
            raise ApiError(403, "Forbidden", json.dumps(body))
        if self.conflicts_to_inject.get((kind, namespace, name)):
            self.conflicts_to_inject[(kind, namespace, name)] -= 1
            self.bump(kind, namespace, name, lambda obj: obj["metadata"].setdefault("labels", {}).update(touched="yes"))
        if params.get("content_type") == kube_access.JSON_PATCH:
            try:
                patched = jsonpatch.apply_patch(copy.deepcopy(stored), body)
            except jsonpatch.JsonPatchException as error:
                raise ApiError(422, "Unprocessable Entity", str(error))
        elif params.get("content_type") == kube_access.MERGE_PATCH:
            patched = copy.deepcopy(stored)
            _merge(patched, body)
        else:
            raise ApiError(415, "Unsupported Media Type")
        if patched["metadata"].get("resourceVersion") != stored["metadata"]["resourceVersion"]:
            raise ApiError(409, "Conflict", "the object has been modified")
        self.version += 1
        patched["metadata"]["resourceVersion"] = str(self.version)
        self.objects[(kind, namespace, name)] = patched
        return Response(copy.deepcopy(patched))


class ModuleExit(Exception):
    def __init__(self, result, failed):
        super(ModuleExit, self).__init__(result.get("msg", ""))
        self.result, self.failed = result, failed


class FakeModule:
    """What the modules use of AnsibleK8SModule: params, check_mode, _diff, warn, exit/fail."""

    def __init__(self, argument_spec, check_mode=False, diff=False, **params):
        self.params = dict((key, spec.get("default")) for key, spec in argument_spec.items())
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)

    def exit_json(self, **result):
        raise ModuleExit(result, False)

    def fail_json(self, **result):
        raise ModuleExit(result, True)


@pytest.fixture
def cluster():
    return FakeCluster()


@pytest.fixture
def run_module(cluster):
    """Run a module's ``run(module, access)`` against the fake cluster; returns (result, failed, module)."""

    def runner(module_py, check_mode=False, diff=True, **params):
        module = FakeModule(module_py.argument_spec(), check_mode=check_mode, diff=diff, **params)
        access = kube_access.KubeAccess(cluster, check_mode=check_mode)
        with pytest.raises(ModuleExit) as exited:
            module_py.run(module, access)
        return exited.value.result, exited.value.failed, module

    return runner
