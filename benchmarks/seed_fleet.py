"""Seed (or remove) a benchmark scene: M namespaces with N SeldonDeployments each.

Half of the deployments read S3 credentials from an env-style secret through envSecretRefName,
the other half through a service account whose secret carries the s3-* annotations, as the
seed tutorial's two scenes do, so both conversion paths are measured.

Usage: python benchmarks/seed_fleet.py up|down --namespaces M --deployments N [--prefix bench]
"""

import argparse
import base64
import secrets

from kubernetes import client, config
from kubernetes.client.rest import ApiException

GROUP, VERSION, PLURAL = "machinelearning.seldon.io", "v1", "seldondeployments"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def sdep(name, node):
    graph = {"name": "classifier", "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/iris"}
    graph.update(node)
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "SeldonDeployment",
        "metadata": {"name": name},
        "spec": {"predictors": [{"name": "default", "replicas": 1, "graph": graph}]},
    }


def objects(index):
    """The secret, optional service account and SeldonDeployment of deployment number `index`."""
    key_id, secret_key = secrets.token_hex(8), secrets.token_hex(16)
    name = f"model-{index}"
    if index % 2 == 0:
        secret = {
            "metadata": {"name": f"{name}-s3"},
            "data": {
                "AWS_ACCESS_KEY_ID": b64(key_id),
                "AWS_SECRET_ACCESS_KEY": b64(secret_key),
                "AWS_ENDPOINT_URL": b64("http://minio.minio-system.svc.cluster.local:9000"),
                "USE_SSL": b64("false"),
            },
        }
        return secret, None, sdep(name, {"envSecretRefName": f"{name}-s3"})
    secret = {
        "metadata": {
            "name": f"{name}-sa-s3",
            "annotations": {
                "machinelearning.seldon.io/s3-endpoint": "minio.minio-system.svc.cluster.local:9000",
                "machinelearning.seldon.io/s3-usehttps": "0",
            },
        },
        "data": {"awsAccessKeyID": b64(key_id), "awsSecretAccessKey": b64(secret_key)},
    }
    account = {"metadata": {"name": f"{name}-sa"}, "secrets": [{"name": f"{name}-sa-s3"}]}
    return secret, account, sdep(name, {"serviceAccountName": f"{name}-sa"})


def up(core, custom, namespaces, deployments):
    for namespace in namespaces:
        core.create_namespace({"metadata": {"name": namespace}})
        for index in range(deployments):
            secret, account, deployment = objects(index)
            core.create_namespaced_secret(namespace, secret)
            if account:
                core.create_namespaced_service_account(namespace, account)
            custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, deployment)


def down(core, namespaces):
    for namespace in namespaces:
        try:
            core.delete_namespace(namespace)
        except ApiException as error:
            if error.status != 404:
                raise


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--namespaces", type=int, default=3)
    parser.add_argument("--deployments", type=int, default=10)
    parser.add_argument("--prefix", default="bench")
    args = parser.parse_args()
    config.load_kube_config()
    core, custom = client.CoreV1Api(), client.CustomObjectsApi()
    names = [f"{args.prefix}-{i}" for i in range(args.namespaces)]
    if args.action == "up":
        up(core, custom, names, args.deployments)
    else:
        down(core, names)


if __name__ == "__main__":
    main()
