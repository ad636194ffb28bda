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


def at(version, **fields):
    """OperatorSettings of one operator release ("1.13.1")."""
    return render.OperatorSettings(version=render.parse_version(version), version_source="test", **fields)


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
    settings = render.OperatorSettings(default_env_secret_ref_name="global-secret", version=(1, 13, 1))
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


# -- the operator release decides the rules (docs/operator-versions.md, operator_rules) ----------

EXPLAINER = {"type": "AnchorTabular", "modelUri": "s3://sklearn/explainer"}


def by_name(deployments):
    return {d["metadata"]["name"]: d for d in deployments}


def explainer_deployment(deployments):
    return by_name(deployments)["sklearn-env-default-explainer"]


@pytest.mark.parametrize("version, expected", [("1.13.1", None), ("1.14.0", [{"secretRef": {"name": "global"}}])])
def test_explainer_default_env_secret_from_1_14_0(version, expected):
    deployments = render.render_seldon_deployment(
        sdep(node(envSecretRefName="own"), explainer=dict(EXPLAINER)),
        ctx(settings=at(version, default_env_secret_ref_name="global")))
    (init,) = init_containers(explainer_deployment(deployments))
    assert init.get("envFrom") == expected
    # Graph nodes get the default at every release; a node's own secret wins.
    assert init_containers(by_name(deployments)["sklearn-env-default-0-classifier"])[0]["envFrom"] == [
        {"secretRef": {"name": "own"}}]


@pytest.mark.parametrize("version, expected", [("1.9.1", None), ("1.10.0", "explainer-sa")])
def test_explainer_service_account_on_its_pod_from_1_10_0(version, expected):
    service_accounts = {"explainer-sa": {"secrets": [{"name": "s3"}]}}
    secrets = {"s3": {"keys": ["awsAccessKeyID", "awsSecretAccessKey"], "annotations": {}}}
    deployments = render.render_seldon_deployment(
        sdep(node(), explainer=dict(EXPLAINER, serviceAccountName="explainer-sa")),
        ctx(settings=at(version), service_accounts=service_accounts, secrets=secrets))
    deployment = explainer_deployment(deployments)
    assert deployment["spec"]["template"]["spec"].get("serviceAccountName") == expected
    # The init container's credentials come from the explainer's account at every release.
    assert [e["name"] for e in init_containers(deployment)[0]["env"]] == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]


CUSTOM = {"spec": {"containers": [{"name": "custom", "image": "me/custom:1"}]}}


def custom_graph(**fields):
    item = {"name": "custom", "type": "MODEL", "modelUri": "s3://models/custom"}
    item.update(fields)
    return item


@pytest.mark.parametrize("version", ["1.16.0", "1.17.0"])
def test_non_prepackaged_model_uri_gets_nothing_before_1_17_1(version):
    deployment = single(render.render_seldon_deployment(
        sdep(custom_graph(envSecretRefName="own"), component_specs=[CUSTOM]), ctx(settings=at(version))))
    assert init_containers(deployment) == []
    assert "volumeMounts" not in deployment["spec"]["template"]["spec"]["containers"][0]


def test_non_prepackaged_model_uri_gets_the_initializer_at_1_17_1():
    service_accounts = {"custom-sa": {"secrets": [{"name": "s3"}]}}
    secrets = {"s3": {"keys": ["awsAccessKeyID", "awsSecretAccessKey"], "annotations": {}}}
    graph = {"name": "router", "implementation": "RANDOM_ABTEST", "children": [
        custom_graph(serviceAccountName="custom-sa"), node("classifier")]}
    deployment = single(render.render_seldon_deployment(
        sdep(graph, component_specs=[CUSTOM]),
        ctx(settings=at("1.17.1", default_env_secret_ref_name="global"), service_accounts=service_accounts,
            secrets=secrets)))
    inits = init_containers(deployment)
    assert [c["name"] for c in inits] == ["custom-model-initializer", "classifier-model-initializer"]
    custom = inits[0]
    # The same initializer as a prepackaged node's: image by precedence (kfserving while
    # seldon-config names it), default secret as envFrom, the node's service account's S3 env.
    assert custom["image"] == KFSERVING
    assert custom["args"] == ["s3://models/custom", "/mnt/models"]
    assert custom["envFrom"] == [{"secretRef": {"name": "global"}}]
    assert [e["name"] for e in custom["env"]] == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    pod = deployment["spec"]["template"]["spec"]
    assert {"name": "custom-provision-location", "mountPath": "/mnt/models", "readOnly": True} in pod[
        "containers"][0]["volumeMounts"]
    # Unlike a prepackaged node, its serviceAccountName is not copied to the pod.
    assert "serviceAccountName" not in pod


def test_non_prepackaged_model_uri_without_container_fails_at_1_17_1():
    graph = {"name": "model", "implementation": "SIMPLE_MODEL", "modelUri": "s3://models/m"}
    with pytest.raises(render.RenderError, match="Failed to find PodSpec for Prepackaged server PreditiveUnit named model"):
        render.render_seldon_deployment(sdep(graph, component_specs=[CUSTOM]), ctx(settings=at("1.17.1")))
    # 1.17.0 ignores the modelUri of such a node.
    render.render_seldon_deployment(sdep(graph, component_specs=[CUSTOM]), ctx(settings=at("1.17.0")))


def triton_sdep(annotations, container=None):
    graph = node("triton", implementation="TRITON_SERVER", envSecretRefName="triton-secret")
    item = sdep(graph, component_specs=[{"spec": {"containers": [container]}}] if container else None)
    item["spec"]["annotations"] = annotations
    return item


NO_STORAGE = {"seldon.io/no-storage-initializer": "True"}


def test_no_storage_initializer_annotation_is_ignored_before_1_15_0():
    deployment = single(render.render_seldon_deployment(triton_sdep(NO_STORAGE), ctx(settings=at("1.14.1"))))
    assert [c["name"] for c in init_containers(deployment)] == ["triton-model-initializer"]
    assert "envFrom" not in deployment["spec"]["template"]["spec"]["containers"][0]


def test_no_storage_initializer_annotation_from_1_15_0():
    deployment = single(render.render_seldon_deployment(triton_sdep(NO_STORAGE), ctx(settings=at("1.15.0"))))
    assert init_containers(deployment) == []
    (server,) = deployment["spec"]["template"]["spec"]["containers"]
    assert server["envFrom"] == [{"secretRef": {"name": "triton-secret"}}]
    assert "volumeMounts" not in server
    # A componentSpec container with its own envFrom keeps it.
    own = {"name": "triton", "image": "nvcr.io/triton:1", "envFrom": [{"secretRef": {"name": "mine"}}]}
    deployment = single(render.render_seldon_deployment(triton_sdep(NO_STORAGE, own), ctx(settings=at("1.15.0"))))
    assert deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"] == [{"secretRef": {"name": "mine"}}]


def test_no_storage_initializer_annotation_only_in_spec_annotations_and_only_triton():
    item = triton_sdep({})
    item["metadata"]["annotations"] = NO_STORAGE  # the SeldonDeployment's own metadata: not read
    deployment = single(render.render_seldon_deployment(item, ctx(settings=at("1.17.1"))))
    assert [c["name"] for c in init_containers(deployment)] == ["triton-model-initializer"]
    sklearn = sdep(node())
    sklearn["spec"]["annotations"] = NO_STORAGE
    deployment = single(render.render_seldon_deployment(sklearn, ctx(settings=at("1.17.1"))))
    assert [c["name"] for c in init_containers(deployment)] == ["classifier-model-initializer"]


@pytest.mark.parametrize("version, expected", [
    ("1.9.1", "gcr.io/kfserving/model-initializer:latest"),
    ("1.16.0", "gcr.io/kfserving/model-initializer:latest"),
    ("1.17.0", "docker.io/seldonio/rclone-storage-initializer:latest"),
    ("1.17.1", "docker.io/seldonio/rclone-storage-initializer:latest"),
])
def test_fallback_image_per_release(version, expected):
    deployment = single(render.render_seldon_deployment(sdep(node()), ctx(config_data(image=""), at(version))))
    assert init_containers(deployment)[0]["image"] == expected


SERVERS = json.dumps({"XGBOOST_SERVER": {"protocols": {"seldon": {"image": "seldonio/xgboostserver",
                                                                  "defaultImageVersion": "1.17.1"}}}})


@pytest.mark.parametrize("version, related, fails", [
    ("1.14.1", "", True), ("1.14.1", "seldonio/sklearnserver:1", False),
    ("1.15.0", "", True), ("1.15.0", "seldonio/sklearnserver:1", True),
])
def test_predictor_servers_entry_required(version, related, fails):
    data = dict(config_data(), predictor_servers=SERVERS)
    settings = at(version, related_server_images={"SKLEARN_SERVER": related})
    if fails:
        with pytest.raises(render.RenderError, match="Failed to get server config for SKLEARN_SERVER"):
            render.render_seldon_deployment(sdep(node()), ctx(data, settings))
    else:
        render.render_seldon_deployment(sdep(node()), ctx(data, settings))
    # An entry always does; no predictor_servers key at all (the test chart) is not checked.
    deployment = single(render.render_seldon_deployment(
        sdep(node(implementation="XGBOOST_SERVER")), ctx(data, settings)))
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "seldonio/xgboostserver:1.17.1"
    render.render_seldon_deployment(sdep(node()), ctx(config_data(), settings))


def controller(image, labels=None):
    return {"metadata": {"labels": labels or {}},
            "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/version": "v0.5"}},
                                  "spec": {"containers": [{"name": "manager", "image": image}]}}}}


@pytest.mark.parametrize("deployment, version", [
    (controller("docker.io/seldonio/seldon-core-operator:1.13.1"), (1, 13, 1)),
    (controller("seldonio/seldon-core-operator:v1.15.0-ubi"), (1, 15, 0)),
    (controller("localhost:5000/seldon-core-operator:1.10.0@sha256:abc"), (1, 10, 0)),
    (controller("localhost:5000/seldon-core-operator", {"app.kubernetes.io/version": "1.14.0"}), (1, 14, 0)),
    (controller("seldonio/seldon-core-operator:latest"), (1, 17, 1)),  # template label v0.5 is not read
    (None, (1, 17, 1)),
])
def test_operator_version_from_the_controller(deployment, version):
    settings = render.OperatorSettings.from_controller_deployment(deployment)
    assert settings.version == version
    assert settings.as_dict()["operator_version"] == render.format_version(version)
    if deployment is None or "latest" in str(deployment):
        assert settings.version_source.startswith("default 1.17.1")


def rendered_and_live(version, **change):
    """One rendered Deployment and the live object the API server made of it (defaults added)."""
    (desired,) = render.render_seldon_deployment(sdep(node()), ctx(settings=at(version)))
    live = json.loads(json.dumps(desired))
    live["metadata"].update(resourceVersion="7", generation=1)
    live["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1"
    live["spec"].update(replicas=1, revisionHistoryLimit=10, progressDeadlineSeconds=600)
    pod = live["spec"]["template"]["spec"]
    pod.update(restartPolicy="Always", dnsPolicy="ClusterFirst", schedulerName="default-scheduler")
    pod["containers"][0]["terminationMessagePath"] = "/dev/termination-log"
    for key, value in change.items():
        if key == "restarted_at":
            live["spec"]["template"]["metadata"].setdefault("annotations", {})[
                "kubectl.kubernetes.io/restartedAt"] = value
        elif key == "replicas":
            live["spec"]["replicas"] = value
        elif key == "init_image":
            pod["initContainers"][0]["image"] = value
    return desired, live


@pytest.mark.parametrize("version", ["1.15.1", "1.16.0", "1.17.1"])
def test_api_server_defaults_are_no_difference(version):
    desired, live = rendered_and_live(version)
    assert render.deployment_difference(desired, live, render.parse_version(version)) is None


@pytest.mark.parametrize("version, expected", [("1.15.1", None), ("1.16.0", "pod template metadata differs"),
                                               ("1.17.1", "pod template metadata differs")])
def test_rollout_restart_is_undone_from_1_16_0(version, expected):
    desired, live = rendered_and_live(version, restarted_at="2024-01-01T00:00:00Z")
    assert render.deployment_difference(desired, live, render.parse_version(version)) == expected


@pytest.mark.parametrize("version, expected", [("1.15.1", None), ("1.16.0", "spec differs")])
def test_replicas_alone_are_compared_from_1_16_0(version, expected):
    desired, live = rendered_and_live(version, replicas=3)
    desired["spec"]["replicas"] = 2
    assert render.deployment_difference(desired, live, render.parse_version(version)) == expected


@pytest.mark.parametrize("version", ["1.9.1", "1.17.1"])
def test_pod_spec_edits_and_dropped_fields_are_written_back_at_every_release(version):
    desired, live = rendered_and_live(version, init_image="someone/else:1")
    assert render.deployment_difference(desired, live, render.parse_version(version)) == "pod spec differs"
    desired, live = rendered_and_live(version)
    # A field the rendering no longer sets (as when envSecretRefName is removed: no envFrom).
    del desired["spec"]["template"]["spec"]["initContainers"][0]["resources"]
    desired["metadata"]["annotations"][render.HASH_ANNOTATION] = render.stable_hash(
        desired["spec"]["template"]["spec"])
    assert render.deployment_difference(desired, live, render.parse_version(version)) == "rendered pod spec changed"


@pytest.mark.parametrize("version, keeps_metadata", [("1.15.1", True), ("1.16.0", False)])
def test_update_writes_the_whole_spec(version, keeps_metadata):
    desired, live = rendered_and_live(version, restarted_at="then", replicas=3)
    live["metadata"]["labels"]["team"] = "a"
    body = render.update_body(desired, live, render.parse_version(version))
    assert "kubectl.kubernetes.io/restartedAt" not in (body["spec"]["template"]["metadata"].get("annotations") or {})
    assert body["spec"]["replicas"] == 3  # renders none: the live count stays
    assert body["metadata"]["resourceVersion"] == "7"
    assert ("team" in body["metadata"]["labels"]) is keeps_metadata
    assert ("deployment.kubernetes.io/revision" in body["metadata"]["annotations"]) is keeps_metadata
    assert body["metadata"]["annotations"][render.HASH_ANNOTATION] == desired["metadata"]["annotations"][
        render.HASH_ANNOTATION]


@pytest.mark.parametrize("version, loops", [("1.17.0", False), ("1.17.1", True)])
def test_explainer_update_loop_at_1_17_1(version, loops):
    deployments = render.render_seldon_deployment(sdep(node(), explainer=dict(EXPLAINER)), ctx(settings=at(version)))
    explainer = explainer_deployment(deployments)
    assert explainer["spec"]["replicas"] is None
    marked = {"metadata": {"annotations": {render.LOOP_ANNOTATION: "1"}}}
    assert render.explainer_update_loops(explainer, marked, render.parse_version(version)) is loops
    assert render.explainer_update_loops(explainer, {"metadata": {}}, render.parse_version(version)) is False
    with_replicas = explainer_deployment(render.render_seldon_deployment(
        sdep(node(), explainer=dict(EXPLAINER, replicas=2)), ctx(settings=at(version))))
    assert render.explainer_update_loops(with_replicas, marked, render.parse_version(version)) is False
    model = by_name(deployments)["sklearn-env-default-0-classifier"]
    assert render.explainer_update_loops(model, marked, render.parse_version(version)) is False


def test_annotations_of_sdep_predictor_and_component_reach_the_pod_template():
    item = sdep(node(), component_specs=[{"metadata": {"annotations": {"c": "3"}},
                                          "spec": {"containers": [{"name": "classifier", "image": "x"}]}}])
    item["spec"]["annotations"] = {"a": "1"}
    item["spec"]["predictors"][0]["annotations"] = {"b": "2"}
    deployment = single(render.render_seldon_deployment(item, ctx()))
    assert deployment["spec"]["template"]["metadata"]["annotations"] == {"a": "1", "b": "2", "c": "3"}
    assert {"a": "1", "b": "2", "c": "3"}.items() <= deployment["metadata"]["annotations"].items()


@pytest.mark.parametrize("rendered, live, same", [("0.5", "500m", True), ("1", "1", True), ("1Gi", "1024Mi", True),
                                                  ("1e3", "1k", True), ("100m", "0.2", False), ("1Gi", "1G", False)])
def test_resource_quantities_compare_by_value(rendered, live, same):
    assert render.derivative({"resources": {"limits": {"cpu": rendered}}},
                             {"resources": {"limits": {"cpu": live}}}) is same
    # Elsewhere strings compare as they are.
    assert render.derivative({"env": [{"value": rendered}]}, {"env": [{"value": live}]}) is (rendered == live)
