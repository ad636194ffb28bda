# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rendering rules of the Seldon operator stand-in (no cluster). Run: pytest tests/standin"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

import standin_render as render

RESOURCES = {"cpuRequest": "100m", "cpuLimit": "1", "memoryRequest": "100Mi", "memoryLimit": "1Gi"}
KFSERVING = "gcr.io/kfserving/storage-initializer:v0.4.0"
RCLONE = "seldonio/rclone-storage-initializer:1.17.1"


def config_data(image=KFSERVING, credentials=None, **resources):
    storage = dict(RESOURCES, image=image)
    storage.update(resources)
    data = {"storageInitializer": json.dumps(storage)}
    if credentials is not None:
        data["credentials"] = json.dumps(credentials)
    return data


def sdep(graph, name="sklearn-env", explainer=None, component_specs=None, protocol=None):
    predictor = {"name": "default", "graph": graph}
    if explainer is not None:
        predictor["explainer"] = explainer
    if component_specs is not None:
        predictor["componentSpecs"] = component_specs
    spec = {"predictors": [predictor]}
    if protocol:
        spec["protocol"] = protocol
    return {"apiVersion": "machinelearning.seldon.io/v1", "kind": "SeldonDeployment",
            "metadata": {"name": name, "namespace": "ns", "uid": "uid-1"}, "spec": spec}


_DEFAULT = object()


def ctx(data=_DEFAULT, settings=None, service_accounts=None, secrets=None):
    return render.InjectionContext(settings or render.OperatorSettings(),
                                   config_data() if data is _DEFAULT else data,
                                   (service_accounts or {}).get, (secrets or {}).get)


def node(name="classifier", **fields):
    item = {"name": name, "implementation": "SKLEARN_SERVER", "modelUri": "s3://sklearn/iris"}
    item.update(fields)
    return item


def single(deployments):
    assert len(deployments) == 1, [d["metadata"]["name"] for d in deployments]
    return deployments[0]


def init_containers(deployment):
    return deployment["spec"]["template"]["spec"].get("initContainers") or []


def test_seed_env_secret_deployment():
    deployments = render.render_seldon_deployment(
        sdep(node(envSecretRefName="seldon-init-container-secret")), ctx())
    assert [d["metadata"]["name"] for d in deployments] == ["sklearn-env-default-0-classifier"]
    deployment = deployments[0]
    assert deployment["metadata"]["labels"]["seldon-deployment-id"] == "sklearn-env"
    assert deployment["spec"]["selector"]["matchLabels"]["seldon-deployment-id"] == "sklearn-env"
    assert deployment["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    (init,) = init_containers(deployment)
    assert init["name"] == "classifier-model-initializer"
    assert init["image"] == KFSERVING
    assert init["args"] == ["s3://sklearn/iris", "/mnt/models"]
    assert init["envFrom"] == [{"secretRef": {"name": "seldon-init-container-secret"}}]
    assert init["resources"]["limits"] == {"cpu": "1", "memory": "1Gi"}
    assert "env" not in init  # the namespace's default service account lists no secret here
    main = deployment["spec"]["template"]["spec"]["containers"][0]
    assert main["name"] == "classifier"
    assert {"name": "classifier-provision-location", "mountPath": "/mnt/models", "readOnly": True} in main[
        "volumeMounts"]


@pytest.mark.parametrize("node_image, related, config_image, expected", [
    ("canary:1", "related:1", "config:1", "canary:1"),
    ("", "related:1", "config:1", "related:1"),
    ("", "", "config:1", "config:1"),
    ("", "", "", render.DEFAULT_INITIALIZER_IMAGE),
])
def test_image_precedence(node_image, related, config_image, expected):
    graph = node(storageInitializerImage=node_image) if node_image else node()
    deployments = render.render_seldon_deployment(
        sdep(graph), ctx(config_data(image=config_image), render.OperatorSettings(related_image_storage_initializer=related)))
    assert init_containers(deployments[0])[0]["image"] == expected


def test_children_at_any_depth_and_non_model_nodes():
    graph = {"name": "router", "implementation": "RANDOM_ABTEST", "children": [
        node("a", children=[node("a1", modelUri="gs://b/a1", storageInitializerImage=RCLONE)]),
        {"name": "custom", "type": "MODEL"},
        node("b", implementation="XGBOOST_SERVER", modelUri="s3://x/b"),
    ]}
    custom = {"spec": {"containers": [{"name": "custom", "image": "me/custom:1"}]}}
    deployment = single(render.render_seldon_deployment(sdep(graph, component_specs=[custom]), ctx()))
    assert deployment["metadata"]["name"] == "sklearn-env-default-0-custom-a-a1-b"
    names = [(c["name"], c["image"], c["args"][0]) for c in init_containers(deployment)]
    assert names == [
        ("a-model-initializer", KFSERVING, "s3://sklearn/iris"),
        ("a1-model-initializer", RCLONE, "gs://b/a1"),
        ("b-model-initializer", KFSERVING, "s3://x/b"),
    ]


def test_explainer_gets_own_deployment_without_default_secret():
    explainer = {"type": "AnchorTabular", "modelUri": "s3://sklearn/explainer", "envSecretRefName": "exp-secret",
                 "storageInitializerImage": RCLONE}
    settings = render.OperatorSettings(default_env_secret_ref_name="global-secret")
    deployments = render.render_seldon_deployment(sdep(node(), explainer=explainer), ctx(settings=settings))
    by_name = {d["metadata"]["name"]: d for d in deployments}
    assert set(by_name) == {"sklearn-env-default-0-classifier", "sklearn-env-default-explainer"}
    (predictor_init,) = init_containers(by_name["sklearn-env-default-0-classifier"])
    assert predictor_init["envFrom"] == [{"secretRef": {"name": "global-secret"}}]
    (explainer_init,) = init_containers(by_name["sklearn-env-default-explainer"])
    assert explainer_init["name"] == "sklearn-env-default-explainer-model-initializer"
    assert explainer_init["image"] == RCLONE
    assert explainer_init["envFrom"] == [{"secretRef": {"name": "exp-secret"}}]
    no_ref = dict(explainer, envSecretRefName="")
    deployments = render.render_seldon_deployment(sdep(node(), explainer=no_ref), ctx(settings=settings))
    assert "envFrom" not in init_containers(deployments[1])[0]


def sa_scene(annotations, keys=("awsAccessKeyID", "awsSecretAccessKey")):
    service_accounts = {"seldon-sa": {"secrets": [{"name": "missing"}, {"name": "s3"}, {"name": "other"}]}}
    secrets = {"s3": {"keys": list(keys), "annotations": annotations},
               "other": {"keys": ["token"], "annotations": {}}}
    return service_accounts, secrets


def test_service_account_s3_env_and_pod_service_account():
    service_accounts, secrets = sa_scene({"machinelearning.seldon.io/s3-endpoint": "127.0.0.1:9900",
                                          "machinelearning.seldon.io/s3-usehttps": "0",
                                          "serving.kubeflow.org/s3-region": "eu-1",
                                          "serving.kubeflow.org/s3-verifyssl": "0"})
    deployment = single(render.render_seldon_deployment(
        sdep(node(serviceAccountName="seldon-sa")), ctx(service_accounts=service_accounts, secrets=secrets)))
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "seldon-sa"
    (init,) = init_containers(deployment)
    assert init["env"] == [
        {"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "s3", "key": "awsAccessKeyID"}}},
        {"name": "AWS_SECRET_ACCESS_KEY", "valueFrom": {"secretKeyRef": {"name": "s3", "key": "awsSecretAccessKey"}}},
        {"name": "S3_USE_HTTPS", "value": "0"},
        {"name": "S3_ENDPOINT", "value": "127.0.0.1:9900"},
        {"name": "AWS_ENDPOINT_URL", "value": "http://127.0.0.1:9900"},
        {"name": "AWS_REGION", "value": "eu-1"},
        {"name": "S3_VERIFY_SSL", "value": "0"},
    ]
    assert "envFrom" not in init


@pytest.mark.parametrize("annotations, expected_url", [
    ({"machinelearning.seldon.io/s3-endpoint": "minio:9000"}, "https://minio:9000"),
    ({"machinelearning.seldon.io/s3-endpoint": "minio:9000", "machinelearning.seldon.io/s3-usehttps": "1"},
     "https://minio:9000"),
    ({"serving.kubeflow.org/s3-endpoint": "minio:9000", "serving.kubeflow.org/s3-usehttps": "0"}, "http://minio:9000"),
    ({}, None),
])
def test_endpoint_url_from_annotations(annotations, expected_url):
    env = {e["name"]: e.get("value") for e in render.s3_env_from_annotations(annotations, {})}
    assert env.get("AWS_ENDPOINT_URL") == expected_url


def test_cluster_default_endpoint_and_custom_key_names():
    credentials = {"s3": {"s3AccessKeyIDName": "id", "s3SecretAccessKeyName": "key", "s3Endpoint": "s3.local:9000",
                          "s3UseHttps": "0"}}
    service_accounts = {"default": {"secrets": [{"name": "s3"}]}}
    secrets = {"s3": {"keys": ["id", "key"], "annotations": {}}}
    deployment = single(render.render_seldon_deployment(
        sdep(node()), ctx(config_data(credentials=credentials), service_accounts=service_accounts, secrets=secrets)))
    env = init_containers(deployment)[0]["env"]
    assert env[0]["valueFrom"]["secretKeyRef"] == {"name": "s3", "key": "id"}
    assert env[1]["valueFrom"]["secretKeyRef"] == {"name": "s3", "key": "key"}
    assert {"name": "AWS_ENDPOINT_URL", "value": "http://s3.local:9000"} in env


def test_secret_without_secret_key_is_not_s3():
    service_accounts, secrets = sa_scene({}, keys=("awsAccessKeyID",))
    deployment = single(render.render_seldon_deployment(
        sdep(node(serviceAccountName="seldon-sa")), ctx(service_accounts=service_accounts, secrets=secrets)))
    assert "env" not in init_containers(deployment)[0]


def test_gcs_service_account_secret():
    service_accounts = {"default": {"secrets": [{"name": "gcs"}]}}
    secrets = {"gcs": {"keys": ["gcloud-application-credentials.json"], "annotations": {}}}
    deployment = single(render.render_seldon_deployment(
        sdep(node(modelUri="gs://b/m")), ctx(service_accounts=service_accounts, secrets=secrets)))
    init = init_containers(deployment)[0]
    assert init["env"] == [{"name": "GOOGLE_APPLICATION_CREDENTIALS",
                            "value": "/var/secrets/gcloud-application-credentials.json"}]
    assert {"name": "user-gcp-sa", "secret": {"secretName": "gcs"}} in deployment["spec"]["template"]["spec"]["volumes"]


def test_hand_written_initializer_is_left_alone():
    hand = {"name": "classifier-model-initializer", "image": "my/own:1", "args": ["x", "/mnt/models"]}
    spec = {"spec": {"containers": [{"name": "classifier", "image": "x"}], "initContainers": [hand]}}
    deployment = single(render.render_seldon_deployment(sdep(node(), component_specs=[spec]), ctx()))
    assert init_containers(deployment) == [hand]


def test_node_without_model_uri_gets_no_initializer():
    deployment = single(render.render_seldon_deployment(sdep(node(modelUri="")), ctx()))
    assert init_containers(deployment) == []


def test_missing_config_map_and_bad_quantities_fail_like_the_operator():
    with pytest.raises(render.RenderError, match="seldon-config not found"):
        render.render_seldon_deployment(sdep(node()), ctx(data=None))
    with pytest.raises(render.RenderError, match="cpuLimit"):
        render.render_seldon_deployment(sdep(node()), ctx(config_data(cpuLimit="")))
    with pytest.raises(render.RenderError, match="not valid JSON"):
        render.render_seldon_deployment(sdep(node()), ctx({"storageInitializer": "{"}))


@pytest.mark.parametrize("text, ok", [("100m", True), ("1", True), ("1Gi", True), ("0.5", True), ("1e3", True),
                                      ("", False), ("1GB", False), ("abc", False), (" 1", False)])
def test_quantities(text, ok):
    assert render._valid_quantity(text) is ok  # pylint: disable=protected-access


def test_long_names_are_hashed_and_cut():
    long_node = "n" * 60
    deployment = single(render.render_seldon_deployment(sdep(node(long_node)), ctx()))
    assert deployment["metadata"]["name"].startswith("seldon-") and len(deployment["metadata"]["name"]) == 39
    init_name = init_containers(deployment)[0]["name"]
    assert len(init_name) <= 63 and not init_name.endswith("-")


def test_tensorflow_server_with_seldon_protocol_loads_into_tfserving():
    deployment = single(render.render_seldon_deployment(sdep(node(implementation="TENSORFLOW_SERVER")), ctx()))
    assert [c["name"] for c in init_containers(deployment)] == ["tfserving-model-initializer"]


def test_settings_from_controller_deployment():
    controller = {"spec": {"template": {"spec": {"containers": [{"name": "manager", "env": [
        {"name": "RELATED_IMAGE_STORAGE_INITIALIZER", "value": ""},
        {"name": "PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME", "value": "global"},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]}]}}}}
    settings = render.OperatorSettings.from_controller_deployment(controller)
    assert settings.related_image_storage_initializer == ""
    assert settings.default_env_secret_ref_name == "global"
    assert render.OperatorSettings.from_controller_deployment(None).as_dict()["default_env_secret_ref_name"] == ""


def test_rendering_is_stable_and_hash_tracks_changes():
    first = render.render_seldon_deployment(sdep(node()), ctx())
    again = render.render_seldon_deployment(sdep(node()), ctx())
    other = render.render_seldon_deployment(sdep(node()), ctx(config_data(image=RCLONE)))
    key = render.HASH_ANNOTATION
    assert first[0]["metadata"]["annotations"][key] == again[0]["metadata"]["annotations"][key]
    assert first[0]["metadata"]["annotations"][key] != other[0]["metadata"]["annotations"][key]
