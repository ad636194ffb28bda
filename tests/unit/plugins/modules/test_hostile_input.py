# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Malformed and hostile input, one object at a time, through all three modules.

Each case puts one bad object (or setting) into namespace ``bad`` next to a good, convertible
SeldonDeployment in namespace ``good``. Every case must end with: no traceback, a reason that
names the problem on the bad object (in seldon_storage_info and in the writing module's result),
the bad object's bytes unchanged, no credential in any result, and the good deployment migrated.
tests/integration/targets/hostile_input applies a dozen of these to the real API server.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import sys

import pytest

from ansible_collections.seldon_ops.rclone_migration.plugins.modules import rclone_secret
from ansible_collections.seldon_ops.rclone_migration.plugins.modules import seldon_deployment_secret_ref
from ansible_collections.seldon_ops.rclone_migration.plugins.modules import seldon_storage_info

CREDENTIAL = "#hostile-canary-credential-7731"
GOOD_ENV = {"AWS_ACCESS_KEY_ID": "#AKIA-good-key", "AWS_SECRET_ACCESS_KEY": "#good-secret-key-0042",
            "AWS_ENDPOINT_URL": "http://minio.minio-system.svc:9000"}


def b64(value):
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()


def encode(data):
    return dict((key, value if key.startswith("raw:") else b64(value)) for key, value in data.items())


def secret(name, data, namespace="bad", annotations=None, raw_data=None):
    metadata = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = annotations
    return "Secret", {"metadata": metadata, "data": raw_data if raw_data is not None else encode(data)}


def sdep(graph=None, predictors=None, name="bad-sdep", namespace="bad"):
    predictors = predictors if predictors is not None else [{"name": "default", "graph": graph}]
    return "SeldonDeployment", {"metadata": {"name": name, "namespace": namespace}, "spec": {"predictors": predictors}}


def model(**fields):
    node = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://models/iris"}
    node.update(fields)
    return node


def service_account(name, secrets, namespace="bad"):
    return "ServiceAccount", {"metadata": {"name": name, "namespace": namespace}, "secrets": secrets}


def uses_secret(data=None, raw_data=None, annotations=None, **node):
    """A deployment whose only node reads ``bad-secret`` through envSecretRefName."""
    return [secret("bad-secret", data or {}, annotations=annotations, raw_data=raw_data),
            sdep(model(envSecretRefName="bad-secret", **node))]


def uses_service_account(secrets, extra=()):
    return [service_account("bad-sa", secrets), sdep(model(serviceAccountName="bad-sa"))] + list(extra)


def deep_graph(levels):
    leaf = model(name="leaf", envSecretRefName="deep-missing")
    graph = leaf
    for level in range(levels):
        graph = {"name": "router-{0}".format(level), "implementation": "RANDOM_ABTEST", "children": [graph]}
    return graph


def seldon_config(**data):
    return "ConfigMap", {"metadata": {"name": "seldon-config", "namespace": "seldon-system"}, "data": data}


HALF = {"AWS_ACCESS_KEY_ID": "AKIAHALF"}
ENV = dict(GOOD_ENV)

CASES = [
    # ------------------------------------------------------------------ SeldonDeployments
    ("children-dict", [sdep(model(children={"a": model(name="x")}))], "children is not a list"),
    ("children-number", [sdep(model(children=7))], "children is not a list"),
    ("children-string-entry", [sdep(model(children=["x"]))], "children holds an entry that is not an object"),
    ("model-uri-number", [sdep(model(modelUri=42))], "modelUri is not a string"),
    ("model-uri-list", [sdep(model(modelUri=["s3://a/b"]))], "modelUri is not a string"),
    ("name-number", [sdep(model(name=5))], "name is not a string"),
    ("implementation-list", [sdep(model(implementation=["SKLEARN_SERVER"]))], "implementation is not a string"),
    ("env-secret-ref-dict", [sdep(model(envSecretRefName={"name": "x"}))], "envSecretRefName is not a string"),
    ("service-account-number", [sdep(model(serviceAccountName=3))], "serviceAccountName is not a string"),
    ("initializer-image-list", [sdep(model(storageInitializerImage=["x"]))], "storageInitializerImage is not a string"),
    ("graph-missing", [sdep(predictors=[{"name": "default"}])], "graph is missing or not an object"),
    ("graph-string", [sdep(predictors=[{"name": "default", "graph": "classifier"}])], "graph is missing"),
    ("predictor-string", [sdep(predictors=["default"])], "predictor is not an object"),
    ("duplicate-predictors", [sdep(predictors=[{"name": "p", "graph": model()}, {"name": "p", "graph": model()}])],
     "p/classifier names 2 nodes"),
    ("duplicate-node-names", [sdep(model(implementation="RANDOM_ABTEST", modelUri="",
                                         children=[model(), model()]))], "default/classifier names 2 nodes"),
    ("explainer-uri-number", [sdep(predictors=[{"name": "default", "graph": {"name": "c"},
                                                "explainer": {"type": "AnchorTabular", "modelUri": 9}}])],
     "modelUri is not a string"),
    ("explainer-type-dict", [sdep(predictors=[{"name": "default", "graph": {"name": "c"},
                                               "explainer": {"type": {}, "modelUri": "s3://a/e"}}])],
     "type is not a string"),
    ("graph-300-deep", [sdep(deep_graph(300))], "secret deep-missing (envSecretRefName) not found"),
    # ------------------------------------------------------------------ modelUris
    ("uri-leading-space", [sdep(model(modelUri=" s3://models/iris"))], "leading or trailing whitespace"),
    ("uri-trailing-newline", [sdep(model(modelUri="s3://models/iris\n"))], "leading or trailing whitespace"),
    ("uri-azureblob", uses_secret(ENV, modelUri="azureblob://container/m"), "rclone's azureblob backend"),
    ("uri-hdfs", uses_secret(ENV, modelUri="hdfs://namenode/m"), "rclone's hdfs backend"),
    ("uri-windows", [sdep(model(modelUri="C:\\models\\iris"))], "Windows path"),
    ("uri-bad-remote-name", [sdep(model(modelUri="my-minio:bucket/m"))], "letters, digits and _ only"),
    ("uri-connection-string", uses_secret(ENV, modelUri=":s3,secret_access_key=" + CREDENTIAL + ":bucket/m"),
     "rclone connection string"),
    ("uri-overrides", uses_secret({"AWS_ACCESS_KEY_ID": "x"}, modelUri="s3,secret_access_key=" + CREDENTIAL + ":b/m"),
     "key AWS_SECRET_ACCESS_KEY missing"),
    ("uri-user-password", [sdep(model(modelUri="https://user:" + CREDENTIAL + "@host/m.joblib"))], "http(s) URL"),
    ("uri-file", [sdep(model(modelUri="file:///mnt/m"))], "file:// URL"),
    # ------------------------------------------------------------------ Secrets
    ("data-list", uses_secret(raw_data=["AWS_ACCESS_KEY_ID"]), "data is not a map of base64 values"),
    ("value-not-base64", uses_secret(raw_data=dict(encode(HALF), AWS_SECRET_ACCESS_KEY="@@not base64@@")),
     "key AWS_SECRET_ACCESS_KEY is not UTF-8 text"),
    ("value-not-utf8", uses_secret(raw_data=dict(encode(HALF), AWS_SECRET_ACCESS_KEY=b64(b"\xff\xfe"))),
     "key AWS_SECRET_ACCESS_KEY is not UTF-8 text"),
    ("endpoint-not-base64", uses_secret(raw_data=dict(encode(ENV), AWS_ENDPOINT_URL="@@@")),
     "key AWS_ENDPOINT_URL is not UTF-8 text"),
    ("endpoint-not-utf8", uses_secret(raw_data=dict(encode(ENV), AWS_ENDPOINT_URL=b64(b"http://\xff"))),
     "key AWS_ENDPOINT_URL is not UTF-8 text"),
    ("key-empty", uses_secret(dict(ENV, AWS_ACCESS_KEY_ID="")), "key AWS_ACCESS_KEY_ID is empty"),
    ("secret-key-missing", uses_secret(HALF), "key AWS_SECRET_ACCESS_KEY missing"),
    ("azure-principal", uses_secret({"AZ_CLIENT_ID": "a", "AZ_CLIENT_SECRET": CREDENTIAL, "AZ_SUBSCRIPTION_ID": "c",
                                     "AZ_TENANT_ID": "d"}), "Azure service-principal secret"),
    ("gcs-not-json", uses_secret({"gcloud-application-credentials.json": "{" + CREDENTIAL}, modelUri="gs://b/m"),
     "not valid JSON"),
    ("rclone-other-remote", uses_secret({"RCLONE_CONFIG_MYS3_TYPE": "s3"}), "but the modelUri uses remote S3"),
    ("rclone-without-type", uses_secret({"RCLONE_CONFIG_S3_ACCESS_KEY_ID": CREDENTIAL}), "RCLONE_CONFIG_S3_TYPE missing"),
    ("secret-missing", [sdep(model(envSecretRefName="nowhere"))], "secret nowhere (envSecretRefName) not found"),
    # ------------------------------------------------------------------ ServiceAccounts
    ("sa-secrets-dict", uses_service_account({"name": "x"}), "service account bad-sa lists no secrets"),
    ("sa-secrets-strings", uses_service_account(["bad-secret"]), "service account bad-sa lists no secrets"),
    ("sa-secret-name-number", uses_service_account([{"name": 7}]), "service account bad-sa lists no secrets"),
    ("sa-secret-missing", uses_service_account([{"name": "gone"}]), "listed but not found: gone"),
    ("sa-missing", [sdep(model(serviceAccountName="ghost"))], "service account ghost not found"),
    # ------------------------------------------------------------------ seldon-config
    ("seldon-config-initializer-json", [seldon_config(storageInitializer="{not json")],
     "seldon-config storageInitializer is not valid JSON"),
    ("seldon-config-initializer-list", [seldon_config(storageInitializer="[1]")],
     "seldon-config storageInitializer is not valid JSON"),
    ("seldon-config-credentials-json", [seldon_config(credentials="{\"s3\": ")],
     "seldon-config credentials is not valid JSON"),
]


def seed_good(cluster):
    cluster.add("Secret", {"metadata": {"name": "env-secret", "namespace": "good"}, "data": encode(GOOD_ENV)})
    cluster.add("ServiceAccount", {"metadata": {"name": "default", "namespace": "good"}})
    cluster.add("ServiceAccount", {"metadata": {"name": "default", "namespace": "bad"}})
    kind, obj = sdep(model(envSecretRefName="env-secret"), name="good-sdep", namespace="good")
    cluster.add(kind, obj)


def reasons(results, warnings):
    """Every reason any module gave about the bad objects or the settings."""
    info, converted, refs = results
    texts = [node["reason"] for node in info["nodes"] if node["deployment"] == "bad-sdep"]
    texts += [entry["reason"] for entry in info["secrets"] + converted["secrets"] if entry["namespace"] == "bad"]
    texts += [entry["reason"] for entry in refs["deployments"] if entry["name"] == "bad-sdep"]
    texts += info["seldon"]["problems"] + list(warnings)
    return " | ".join(texts)


@pytest.mark.parametrize("name,objects,needle", CASES, ids=[case[0] for case in CASES])
def test_one_bad_object_is_named_and_the_rest_migrates(cluster, run_module, request, name, objects, needle):
    if name.startswith("graph-") and name.endswith("-deep"):
        # the in-memory API deep-copies objects recursively; the modules themselves walk graphs
        # iteratively (test_seldon_graph.py walks 5000 levels at the default limit)
        request.addfinalizer(lambda limit=sys.getrecursionlimit(): sys.setrecursionlimit(limit))
        sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
    seed_good(cluster)
    for kind, obj in objects:
        cluster.add(kind, copy.deepcopy(obj))
    bad_before = dict((key, copy.deepcopy(obj)) for key, obj in cluster.objects.items()
                      if key[1] in ("bad", "seldon-system"))
    warnings = []
    results = []
    for module_py in (seldon_storage_info, rclone_secret, seldon_deployment_secret_ref):
        result, failed, module = run_module(module_py, namespaces=["good", "bad"])
        assert not failed, result.get("msg")
        warnings.extend(module.warnings)
        results.append(result)
    assert needle in reasons(results, warnings)
    # nothing was written to the bad objects: they are as they were, byte for byte
    assert not [call for call in cluster.writes() if call[2] == "bad"]
    for key, before in bad_before.items():
        assert cluster.objects[key] == before, key
    # nothing the modules returned holds a credential
    dumped = json.dumps(results)
    for value in (CREDENTIAL, GOOD_ENV["AWS_SECRET_ACCESS_KEY"], GOOD_ENV["AWS_ACCESS_KEY_ID"]):
        assert value not in dumped and b64(value) not in dumped
    # the good deployment migrates all the same (unless the operator cannot render anything)
    info, _failed, _module = run_module(seldon_storage_info, namespaces=["good"])
    (good,) = [node for node in info["nodes"] if node["deployment"] == "good-sdep"]
    assert good["status"] == "migrated"


def test_the_matrix_is_at_least_forty_cases():
    assert len(CASES) >= 40


def test_scheme_less_endpoint_follows_use_ssl(cluster, run_module):
    seed_good(cluster)
    for kind, obj in uses_secret(dict(ENV, AWS_ENDPOINT_URL="minio.minio-system.svc:9000", USE_SSL="false")):
        cluster.add(kind, obj)
    run_module(rclone_secret, namespaces=["bad"])
    data = cluster.obj("Secret", "bad", "bad-secret")["data"]
    assert base64.b64decode(data["RCLONE_CONFIG_S3_ENDPOINT"]).decode() == "http://minio.minio-system.svc:9000"
