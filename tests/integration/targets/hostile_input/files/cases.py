#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Objects of the hostile_input target: a dozen cases of tests/unit/plugins/modules/test_hostile_input.py,
each named after its case (SeldonDeployment, Secret and ServiceAccount all carry the case id),
plus the good objects next to them and the operator's seldon-config.

    cases.py bad NAMESPACE | kubectl create -f -      the bad objects (a JSON List)
    cases.py good NAMESPACE | kubectl create -f -     a good env-secret and service-account model
    cases.py seldon NAMESPACE | kubectl create -f -   seldon-config whose storageInitializer is not JSON
    cases.py ids                                       the case ids, one a line

Objects go out as JSON to kubectl (a graph 500 levels deep nests 1000 JSON levels: more than
Ansible's templating or Python's default recursion limit would carry). Where the API server itself
rejects a unit case, the closest case it accepts is used (see CASES).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import sys

# Canary credentials: the target fails if any shows up in a result, plain or base64.
CREDENTIAL = "#hostile-canary-credential-7731"
GOOD_KEY_ID = "AKIAHOSTILEGOOD00042"
GOOD_SECRET = "hostile-good-secret-0042"
ENV = {"AWS_ACCESS_KEY_ID": "AKIAHOSTILEBAD00077", "AWS_SECRET_ACCESS_KEY": CREDENTIAL,
       "AWS_ENDPOINT_URL": "http://minio.minio-system.svc:9000"}
DEEP_LEVELS = 500


def b64(value):
    return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()


def encode(data):
    return dict((key, b64(value)) for key, value in data.items())


def secret(name, data=None, raw_data=None, annotations=None):
    metadata = {"name": name}
    if annotations:
        metadata["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": metadata,
            "data": raw_data if raw_data is not None else encode(data)}


def sdep(name, graph=None, predictors=None):
    predictors = predictors if predictors is not None else [{"name": "default", "graph": graph}]
    return {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment", "metadata": {"name": name},
            "spec": {"predictors": predictors}}


def model(**fields):
    node = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://models/iris"}
    node.update(fields)
    return node


def service_account(name, secrets):
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}, "secrets": secrets}


def uses_secret(case, data=None, raw_data=None, **node):
    """A SeldonDeployment whose only node reads the Secret of the same name (envSecretRefName)."""
    return [secret(case, data, raw_data), sdep(case, model(envSecretRefName=case, **node))]


def deep_graph(levels):
    graph = model(name="leaf", envSecretRefName="deep-missing")
    for level in range(levels):
        graph = {"name": "router-{0}".format(level), "implementation": "RANDOM_ABTEST", "children": [graph]}
    return graph


CASES = {
    "graph-500-deep": lambda case: [sdep(case, deep_graph(DEEP_LEVELS))],
    "uri-connection-string": lambda case: uses_secret(
        case, ENV, modelUri=":s3,secret_access_key=" + CREDENTIAL + ":bucket/m"),
    "uri-user-password": lambda case: [sdep(case, model(modelUri="https://user:" + CREDENTIAL + "@host/m.joblib"))],
    # The unit case holds an AWS_ENDPOINT_URL that is not base64 at all: the API server rejects that
    # Secret (data values must be base64). Closest it accepts: valid base64 of bytes that are not UTF-8.
    "endpoint-not-utf8": lambda case: uses_secret(
        case, raw_data=dict(encode(ENV), AWS_ENDPOINT_URL=b64(b"http://\xff"))),
    "value-not-utf8": lambda case: uses_secret(
        case, raw_data=dict(encode(ENV), AWS_SECRET_ACCESS_KEY=b64(b"\xff\xfe"))),
    "duplicate-predictors": lambda case: [sdep(case, predictors=[
        {"name": "p", "graph": model()}, {"name": "p", "graph": model()}])],
    "children-dict": lambda case: [sdep(case, model(children={"a": model(name="x")}))],
    "model-uri-number": lambda case: [sdep(case, model(modelUri=42))],
    "implementation-list": lambda case: [sdep(case, model(implementation=["SKLEARN_SERVER"]))],
    "explainer-uri-number": lambda case: [sdep(case, predictors=[{
        "name": "default", "graph": {"name": "c"}, "explainer": {"type": "AnchorTabular", "modelUri": 9}}])],
    "uri-leading-space": lambda case: [sdep(case, model(modelUri=" s3://models/iris"))],
    # The unit case lists secrets as strings; a ServiceAccount's secrets are ObjectReferences, so
    # the API server rejects strings. Closest it accepts: entries without a name.
    "sa-secrets-nameless": lambda case: [service_account(case, [{}, {"kind": "Secret"}]),
                                         sdep(case, model(serviceAccountName=case))],
    "azure-principal": lambda case: uses_secret(case, {"AZ_CLIENT_ID": "a", "AZ_CLIENT_SECRET": CREDENTIAL,
                                                       "AZ_SUBSCRIPTION_ID": "c", "AZ_TENANT_ID": "d"}),
    "rclone-without-type": lambda case: uses_secret(case, {"RCLONE_CONFIG_S3_ACCESS_KEY_ID": CREDENTIAL}),
}


def good_objects():
    sa_secret = secret("good-sa", {"awsAccessKeyID": GOOD_KEY_ID, "awsSecretAccessKey": GOOD_SECRET},
                       annotations={"machinelearning.seldon.io/s3-endpoint": "minio.minio-system.svc:9000",
                                    "machinelearning.seldon.io/s3-usehttps": "0"})
    return [secret("good-env", {"AWS_ACCESS_KEY_ID": GOOD_KEY_ID, "AWS_SECRET_ACCESS_KEY": GOOD_SECRET,
                                "AWS_ENDPOINT_URL": "http://minio.minio-system.svc:9000"}),
            sdep("good-env", model(envSecretRefName="good-env")),
            sa_secret, service_account("good-sa", [{"name": "good-sa"}]),
            sdep("good-sa", model(serviceAccountName="good-sa"))]


def seldon_config():
    return [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seldon-config"},
             "data": {"storageInitializer": "{not json",
                      "credentials": json.dumps({"s3": {"s3AccessKeyIDName": "awsAccessKeyID",
                                                        "s3SecretAccessKeyName": "awsSecretAccessKey"}})}}]


def as_list(objects, namespace):
    for obj in objects:
        obj["metadata"]["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "List", "items": objects}


def main(argv):
    sys.setrecursionlimit(20000)
    if argv[1] == "ids":
        print("\n".join(CASES))
        return
    what, namespace = argv[1], argv[2]
    if what == "bad":
        objects = [obj for case, build in CASES.items() for obj in build(case)]
    elif what == "good":
        objects = good_objects()
    else:
        objects = seldon_config()
    json.dump(as_list(objects, namespace), sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
