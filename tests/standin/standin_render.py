# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST-ONLY stand-in for the Seldon Core v1 operator: the pure rendering part.

The local test cluster has no Seldon operator (it cannot run real model servers), so without
this nothing would turn a SeldonDeployment into the Deployments whose init containers the
migration is about. These functions render, from a SeldonDeployment and what the operator would
read from the cluster, the Deployments the operator would create - only the parts this project
depends on:

* one Deployment per componentSpec of each predictor, named like the operator names them
  (``<sdep>-<predictor>-<index>-<container names>``), plus ``<sdep>-<predictor>-explainer``;
* labels ``seldon-deployment-id=<sdep>``, ``app=<deployment>``, ``seldon-app``, ``version``;
* one init container ``<container>-model-initializer`` per model-loading graph node (any depth)
  and per explainer with a modelUri, with the operator's image precedence, args
  ``[modelUri, /mnt/models]``, resources from ``seldon-config``, and the credentials the operator
  injects (service-account S3/GCS secrets as env, ``envSecretRefName`` as ``envFrom``).

Read from SeldonIO/seldon-core ``operator/``: controllers/model_initializer_injector.go,
controllers/seldondeployment_prepackaged_servers.go, controllers/seldondeployment_explainers.go,
controllers/resources/credentials/{service_account_credentials.go,s3/s3_secret.go,gcs/gcs_secret.go},
apis/machinelearning.seldon.io/v1/{defaults.go,prepack.go,seldondeployment_types.go}.

Deliberate differences (documented in tests/standin/README.md): no executor/engine container,
no Services, no podinfo volume; main containers only need to exist; the selector also carries
``app`` so the Deployments of one SeldonDeployment never select each other's pods.

Everything here is pure: the cluster is passed in as plain dicts and lookup callables. Secret
*values* never reach this module: secrets are passed as ``{"keys": [...], "annotations": {...}}``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import json
import re

MODEL_MOUNT_PATH = "/mnt/models"
PVC_URI_PREFIX = "pvc://"
PVC_SOURCE_MOUNT_NAME = "kfserving-pvc-source"
PVC_SOURCE_MOUNT_PATH = "/mnt/pvc"
DEFAULT_INITIALIZER_IMAGE = "docker.io/seldonio/rclone-storage-initializer:latest"
STORAGE_INITIALIZER_KEY = "storageInitializer"
CREDENTIALS_KEY = "credentials"
PREDICTOR_SERVERS_KEY = "predictor_servers"
EXPLAINER_KEY = "explainer"
NOT_PREPACKAGED = frozenset(
    ["SIMPLE_MODEL", "SIMPLE_ROUTER", "RANDOM_ABTEST", "AVERAGE_COMBINER", "UNKNOWN_IMPLEMENTATION"]
)
TENSORFLOW_SERVER = "TENSORFLOW_SERVER"
TFSERVING_CONTAINER_NAME = "tfserving"

S3_DEFAULT_ACCESS_KEY_ID_NAME = "awsAccessKeyID"
S3_DEFAULT_SECRET_ACCESS_KEY_NAME = "awsSecretAccessKey"
GCS_DEFAULT_CREDENTIAL_FILE_NAME = "gcloud-application-credentials.json"
GCS_MOUNT_PATH = "/var/secrets/"
GCS_VOLUME_NAME = "user-gcp-sa"
ANNOTATION_PREFIX = "machinelearning.seldon.io"
ANNOTATION_FALLBACK_PREFIX = "serving.kubeflow.org"

LABEL_SELDON_ID = "seldon-deployment-id"
LABEL_SELDON_APP = "seldon-app"
HASH_ANNOTATION = "standin.seldon-ops.test/rendered-hash"

# Kubernetes resource.Quantity, as resource.ParseQuantity accepts it (decimal and binary suffixes,
# decimal exponents). The operator refuses to inject when any of the four values does not parse.
_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")


class RenderError(Exception):
    """A SeldonDeployment the operator would refuse (its reconcile would fail with this reason)."""


class OperatorSettings:
    """What the real controller reads once, from its own environment, when it starts."""

    def __init__(self, related_image_storage_initializer="", default_env_secret_ref_name="",
                 related_image_explainer=""):
        self.related_image_storage_initializer = related_image_storage_initializer or ""
        self.default_env_secret_ref_name = default_env_secret_ref_name or ""
        self.related_image_explainer = related_image_explainer or ""

    @classmethod
    def from_controller_deployment(cls, deployment):
        """Read the controller container's env (plain ``value`` entries, as helm renders them)."""
        env = {}
        if deployment:
            containers = deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
            for container in containers:
                for item in container.get("env") or []:
                    if "value" in item and item.get("name") not in env:
                        env[item["name"]] = item.get("value") or ""
        return cls(
            related_image_storage_initializer=env.get("RELATED_IMAGE_STORAGE_INITIALIZER", ""),
            default_env_secret_ref_name=env.get("PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME", ""),
            related_image_explainer=env.get("RELATED_IMAGE_EXPLAINER", ""),
        )

    def as_dict(self):
        return {
            "related_image_storage_initializer": self.related_image_storage_initializer,
            "default_env_secret_ref_name": self.default_env_secret_ref_name,
            "related_image_explainer": self.related_image_explainer,
        }


def stable_hash(value):
    """sha256 of a JSON value with sorted keys: the stand-in's "did the rendering change" test."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _md5(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()  # nosec - a name, as the operator does


def _limit_name(name):
    """Container and volume names: cut to 63 characters, no trailing dash (operator rule)."""
    if len(name) > 63:
        name = name[:63].rstrip("-")
    return name


def seldon_id(sdep_name):
    return sdep_name if len(sdep_name) <= 63 else "seldon-" + _md5(sdep_name)


def predictor_key(sdep_name, predictor):
    annotations = predictor.get("annotations") or {}
    if annotations.get("seldon.io/svc-name"):
        return annotations["seldon.io/svc-name"]
    name = sdep_name + "-" + predictor.get("name", "")
    return name if len(name) <= 63 else "seldon-" + _md5(name)


def deployment_name(sdep_name, predictor, component_spec, index):
    base = "%s-%s-%d-" % (sdep_name, predictor.get("name", ""), index)
    metadata_name = ((component_spec or {}).get("metadata") or {}).get("name")
    if metadata_name:
        name = base + metadata_name
    else:
        containers = ((component_spec or {}).get("spec") or {}).get("containers") or []
        name = base + "-".join(c.get("name", "") for c in containers)
    if len(name) > 63:
        return "seldon-" + _md5(name)
    return name


def explainer_deployment_name(sdep_name, predictor):
    name = sdep_name + "-" + predictor.get("name", "") + "-explainer"
    return name if len(name) <= 63 else "seldon-" + _md5(name)


def graph_nodes(graph):
    """Every node of a predictor graph, pre-order, children at any depth (GetPredictiveUnitList)."""
    nodes = []
    stack = [graph] if graph else []
    while stack:
        node = stack.pop(0)
        nodes.append(node)
        stack[0:0] = list(node.get("children") or [])
    return nodes


def is_prepackaged(node):
    implementation = node.get("implementation") or ""
    return bool(implementation) and implementation not in NOT_PREPACKAGED


def _json_config(config_data, key, what):
    raw = (config_data or {}).get(key)
    if raw is None or raw == "":
        return {}
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise RenderError("seldon-config %s is not valid JSON (%s): the operator panics on it" % (what, exc)) from exc
    if not isinstance(value, dict):
        raise RenderError("seldon-config %s is not a JSON object" % what)
    return value


def _valid_quantity(text):
    return isinstance(text, str) and bool(_QUANTITY.match(text))


def storage_initializer_config(config_data):
    """The ``storageInitializer`` entry, validated like getStorageInitializerConfigsFromMap."""
    config = _json_config(config_data, STORAGE_INITIALIZER_KEY, STORAGE_INITIALIZER_KEY)
    for field in ("memoryRequest", "memoryLimit", "cpuRequest", "cpuLimit"):
        if not _valid_quantity(config.get(field, "")):
            raise RenderError(
                "seldon-config storageInitializer.%s is %s: the operator cannot parse it as a quantity "
                "and injects no model initializer" % (field, json.dumps(config.get(field, "")))
            )
    return config


def credentials_config(config_data):
    return _json_config(config_data, CREDENTIALS_KEY, CREDENTIALS_KEY)


def choose_initializer_image(node_image, settings, storage_config):
    """Operator precedence: node storageInitializerImage > RELATED_IMAGE_STORAGE_INITIALIZER >
    seldon-config storageInitializer.image > docker.io/seldonio/rclone-storage-initializer:latest."""
    if node_image:
        return node_image
    if settings.related_image_storage_initializer:
        return settings.related_image_storage_initializer
    if storage_config.get("image"):
        return storage_config["image"]
    return DEFAULT_INITIALIZER_IMAGE


def _annotation(annotations, name):
    """s3-* annotation: machinelearning.seldon.io/ first, serving.kubeflow.org/ as fallback."""
    for prefix in (ANNOTATION_PREFIX, ANNOTATION_FALLBACK_PREFIX):
        key = prefix + "/" + name
        if key in annotations:
            return True, annotations[key]
    return False, ""


def s3_env_from_annotations(annotations, s3_config):
    """BuildEnvFromAnnotations: endpoint/https/region/verifyssl env for one S3 secret."""
    env = []
    found, endpoint = _annotation(annotations, "s3-endpoint")
    if found:
        url = "https://" + endpoint
        has_https, use_https = _annotation(annotations, "s3-usehttps")
        if has_https:
            if use_https == "0":
                url = "http://" + endpoint
            env.append({"name": "S3_USE_HTTPS", "value": use_https})
        env.append({"name": "S3_ENDPOINT", "value": endpoint})
        env.append({"name": "AWS_ENDPOINT_URL", "value": url})
    elif s3_config.get("s3Endpoint"):
        endpoint = s3_config["s3Endpoint"]
        url = "https://" + endpoint
        if s3_config.get("s3UseHttps") == "0":
            url = "http://" + endpoint
            env.append({"name": "S3_USE_HTTPS", "value": s3_config["s3UseHttps"]})
        env.append({"name": "S3_ENDPOINT", "value": endpoint})
        env.append({"name": "AWS_ENDPOINT_URL", "value": url})
    found, region = _annotation(annotations, "s3-region")
    if found:
        env.append({"name": "AWS_REGION", "value": region})
    found, verify = _annotation(annotations, "s3-verifyssl")
    if found:
        env.append({"name": "S3_VERIFY_SSL", "value": verify})
    return env


def service_account_credentials(service_account_name, lookup_service_account, lookup_secret, creds_config):
    """CreateSecretVolumeAndEnv: env, volume mounts and volumes from the service account's secrets.

    Returns (env, volume_mounts, volumes). A missing service account or secret gives nothing, as
    the operator only logs those.
    """
    s3_config = creds_config.get("s3") or {}
    gcs_config = creds_config.get("gcs") or {}
    access_key_name = s3_config.get("s3AccessKeyIDName") or S3_DEFAULT_ACCESS_KEY_ID_NAME
    secret_key_name = s3_config.get("s3SecretAccessKeyName") or S3_DEFAULT_SECRET_ACCESS_KEY_NAME
    gcs_file_name = gcs_config.get("gcsCredentialFileName") or GCS_DEFAULT_CREDENTIAL_FILE_NAME
    env, mounts, volumes = [], [], []
    service_account = lookup_service_account(service_account_name or "default")
    if not service_account:
        return env, mounts, volumes
    for ref in service_account.get("secrets") or []:
        secret_name = (ref or {}).get("name")
        secret = lookup_secret(secret_name) if secret_name else None
        if not secret:
            continue
        keys = set(secret.get("keys") or [])
        if secret_key_name in keys:
            env.append({"name": "AWS_ACCESS_KEY_ID",
                        "valueFrom": {"secretKeyRef": {"name": secret_name, "key": access_key_name}}})
            env.append({"name": "AWS_SECRET_ACCESS_KEY",
                        "valueFrom": {"secretKeyRef": {"name": secret_name, "key": secret_key_name}}})
            env.extend(s3_env_from_annotations(secret.get("annotations") or {}, s3_config))
        elif gcs_file_name in keys:
            volumes.append({"name": GCS_VOLUME_NAME, "secret": {"secretName": secret_name}})
            mounts.append({"name": GCS_VOLUME_NAME, "mountPath": GCS_MOUNT_PATH, "readOnly": True})
            env.append({"name": "GOOGLE_APPLICATION_CREDENTIALS", "value": GCS_MOUNT_PATH + gcs_file_name})
    return env, mounts, volumes


def _find_container(pod_spec, name):
    for container in pod_spec.get("containers") or []:
        if container.get("name") == name:
            return container
    return None


def _add_mount(container, volume_name, mount_path):
    mounts = container.setdefault("volumeMounts", [])
    if not any(m.get("name") == volume_name for m in mounts):
        mounts.append({"name": volume_name, "mountPath": mount_path, "readOnly": True})


class InjectionContext:
    """What one InjectModelInitializer call reads from the cluster (fresh per reconcile)."""

    def __init__(self, settings, config_data, lookup_service_account, lookup_secret):
        self.settings = settings
        self.config_data = config_data
        self.lookup_service_account = lookup_service_account
        self.lookup_secret = lookup_secret


def inject_model_initializer(pod_spec, container_name, model_uri, service_account_name,
                             env_secret_ref_name, node_initializer_image, ctx):
    """Add the model initializer for one container, the way InjectModelInitializer does."""
    if not model_uri:
        return
    user_container = _find_container(pod_spec, container_name)
    if user_container is None:
        raise RenderError("Invalid configuration: cannot find container: %s" % container_name)
    volume_name = _limit_name(user_container["name"] + "-provision-location")
    init_name = _limit_name(user_container["name"] + "-model-initializer")
    init_containers = pod_spec.setdefault("initContainers", [])
    if any(c.get("name") == init_name for c in init_containers):
        # A hand-written initializer in componentSpecs wins: the operator leaves it as it is.
        _add_mount(user_container, volume_name, MODEL_MOUNT_PATH)
        return

    volumes = []
    init_mounts = []
    source = model_uri
    if model_uri.startswith(PVC_URI_PREFIX):
        parts = model_uri[len(PVC_URI_PREFIX):].split("/")
        pvc_name, pvc_path = parts[0], "/".join(parts[1:])
        volumes.append({"name": PVC_SOURCE_MOUNT_NAME, "persistentVolumeClaim": {"claimName": pvc_name}})
        init_mounts.append({"name": PVC_SOURCE_MOUNT_NAME, "mountPath": PVC_SOURCE_MOUNT_PATH, "readOnly": True})
        _add_mount(user_container, PVC_SOURCE_MOUNT_NAME, PVC_SOURCE_MOUNT_PATH)
        source = PVC_SOURCE_MOUNT_PATH + "/" + pvc_path
    volumes.append({"name": volume_name, "emptyDir": {}})
    init_mounts.append({"name": volume_name, "mountPath": MODEL_MOUNT_PATH})

    storage_config = storage_initializer_config(ctx.config_data)
    init_container = {
        "name": init_name,
        "image": choose_initializer_image(node_initializer_image, ctx.settings, storage_config),
        "imagePullPolicy": "IfNotPresent",
        "args": [source, MODEL_MOUNT_PATH],
        "volumeMounts": init_mounts,
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "resources": {
            "limits": {"cpu": storage_config["cpuLimit"], "memory": storage_config["memoryLimit"]},
            "requests": {"cpu": storage_config["cpuRequest"], "memory": storage_config["memoryRequest"]},
        },
    }
    _add_mount(user_container, volume_name, MODEL_MOUNT_PATH)
    pod_spec.setdefault("volumes", []).extend(volumes)

    env, mounts, sa_volumes = service_account_credentials(
        service_account_name or pod_spec.get("serviceAccountName") or "",
        ctx.lookup_service_account, ctx.lookup_secret, credentials_config(ctx.config_data))
    if env:
        init_container["env"] = env
    if mounts:
        init_container["volumeMounts"].extend(mounts)
    if sa_volumes:
        pod_spec["volumes"].extend(sa_volumes)
    if env_secret_ref_name:
        init_container["envFrom"] = [{"secretRef": {"name": env_secret_ref_name}}]
    init_containers.append(init_container)


def _server_image(node, protocol, config_data):
    """Main container image: seldon-config predictor_servers, else a stand-in placeholder."""
    implementation = node.get("implementation") or ""
    try:
        servers = _json_config(config_data, PREDICTOR_SERVERS_KEY, PREDICTOR_SERVERS_KEY)
    except RenderError:
        servers = {}
    server = servers.get(implementation) or {}
    key = "grpc" if ((node.get("endpoint") or {}).get("type") == "GRPC") else "rest"
    if protocol in ("kfserving", "v2"):
        key = "protocols"
    image_config = server.get(key) or {}
    if isinstance(image_config, dict) and image_config.get("image"):
        image = image_config["image"]
        if image_config.get("defaultImageVersion"):
            image += ":" + image_config["defaultImageVersion"]
        return image
    return "standin.invalid/%s:standin" % implementation.lower().replace("_", "-")


def _default_component_specs(predictor, protocol, config_data):
    """DefaultSeldonDeployment: prepackaged nodes without a container get one in componentSpecs[0]."""
    specs = copy.deepcopy(predictor.get("componentSpecs") or [])
    for node in graph_nodes(predictor.get("graph")):
        if not is_prepackaged(node):
            continue
        existing = None
        for spec in specs:
            existing = _find_container((spec or {}).get("spec") or {}, node.get("name"))
            if existing is not None:
                break
        if existing is None:
            container = {"name": node.get("name"), "image": ""}
            if specs:
                specs[0].setdefault("spec", {}).setdefault("containers", []).append(container)
            else:
                specs = [{"spec": {"containers": [container]}}]
            existing = container
        if not existing.get("image") and protocol != "tensorflow":
            existing["image"] = _server_image(node, protocol, config_data)
    return specs


def _owner_reference(sdep):
    metadata = sdep.get("metadata") or {}
    return {
        "apiVersion": sdep.get("apiVersion", "machinelearning.seldon.io/v1"),
        "kind": "SeldonDeployment",
        "name": metadata.get("name"),
        "uid": metadata.get("uid"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _deployment(sdep, predictor, name, app_label, pod_spec, pod_metadata, replicas):
    metadata = sdep.get("metadata") or {}
    sid = seldon_id(metadata.get("name", ""))
    labels = {
        LABEL_SELDON_ID: sid,
        "app": name,
        "fluentd": "true",
        LABEL_SELDON_APP: app_label,
        "version": (predictor.get("labels") or {}).get("version") or predictor.get("name", ""),
    }
    template_labels = dict((pod_metadata or {}).get("labels") or {})
    template_labels.update(labels)
    template_annotations = dict((sdep.get("spec") or {}).get("annotations") or {})
    template_annotations.update((pod_metadata or {}).get("annotations") or {})
    template_metadata = {"labels": template_labels}
    if template_annotations:
        template_metadata["annotations"] = template_annotations
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": metadata.get("namespace"),
            "labels": labels,
            "annotations": {},
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {LABEL_SELDON_ID: sid, "app": name}},
            "template": {"metadata": template_metadata, "spec": pod_spec},
        },
    }
    if metadata.get("uid"):
        deployment["metadata"]["ownerReferences"] = [_owner_reference(sdep)]
    deployment["metadata"]["annotations"][HASH_ANNOTATION] = stable_hash(
        {"labels": labels, "spec": deployment["spec"]})
    return deployment


def _replicas(*candidates):
    for value in candidates:
        if value is not None:
            return int(value)
    return 1


def render_seldon_deployment(sdep, ctx):
    """All Deployments the operator would create for one SeldonDeployment (list of dicts).

    ``ctx`` is an InjectionContext; ``ctx.config_data`` is the seldon-config ConfigMap's data, or
    None when the ConfigMap does not exist (then the operator fails the reconcile).
    Raises RenderError with the reason the operator would report.
    """
    if ctx.config_data is None:
        raise RenderError("ConfigMap seldon-config not found in the controller namespace")
    metadata = sdep.get("metadata") or {}
    spec = sdep.get("spec") or {}
    sdep_name = metadata.get("name", "")
    protocol = spec.get("protocol") or "seldon"
    deployments = []
    for predictor in spec.get("predictors") or []:
        component_specs = _default_component_specs(predictor, protocol, ctx.config_data)
        rendered = []
        for index, component_spec in enumerate(component_specs):
            component_spec = component_spec or {}
            pod_spec = copy.deepcopy(component_spec.get("spec") or {})
            rendered.append({
                "name": deployment_name(sdep_name, predictor, component_spec, index),
                "pod_spec": pod_spec,
                "pod_metadata": component_spec.get("metadata") or {},
                "replicas": _replicas(component_spec.get("replicas"), predictor.get("replicas"),
                                      spec.get("replicas")),
            })
        for node in graph_nodes(predictor.get("graph")):
            if not is_prepackaged(node):
                continue
            target = None
            for item in rendered:
                if _find_container(item["pod_spec"], node.get("name")) is not None:
                    target = item
                    break
            if target is None:
                raise RenderError("Failed to find PodSpec for Prepackaged server PreditiveUnit named %s"
                                  % node.get("name"))
            pod_spec = target["pod_spec"]
            if node.get("serviceAccountName"):
                # The operator copies it to the pod (IAM roles for service accounts).
                pod_spec["serviceAccountName"] = node["serviceAccountName"]
            container_name = node.get("name")
            if node.get("implementation") == TENSORFLOW_SERVER and protocol != "tensorflow":
                # Seldon protocol: a tfserving container next to the proxy loads the model.
                container_name = TFSERVING_CONTAINER_NAME
                if _find_container(pod_spec, container_name) is None:
                    pod_spec.setdefault("containers", []).append(
                        {"name": container_name, "image": "standin.invalid/tensorflow-serving:standin"})
            env_secret_ref = node.get("envSecretRefName") or ctx.settings.default_env_secret_ref_name
            inject_model_initializer(pod_spec, container_name, node.get("modelUri") or "",
                                     node.get("serviceAccountName") or "", env_secret_ref,
                                     node.get("storageInitializerImage") or "", ctx)
        app_label = predictor_key(sdep_name, predictor)
        for item in rendered:
            if item["pod_spec"].get("containers"):
                deployments.append(_deployment(sdep, predictor, item["name"], app_label, item["pod_spec"],
                                               item["pod_metadata"], item["replicas"]))
        explainer = predictor.get("explainer")
        if explainer and explainer.get("type"):
            deployments.append(_render_explainer(sdep, predictor, explainer, ctx))
    return deployments


def _render_explainer(sdep, predictor, explainer, ctx):
    sdep_name = (sdep.get("metadata") or {}).get("name", "")
    spec = sdep.get("spec") or {}
    name = explainer_deployment_name(sdep_name, predictor)
    container = copy.deepcopy(explainer.get("containerSpec") or {})
    container["name"] = container.get("name") or name
    if not container.get("image"):
        explainer_config = {}
        try:
            explainer_config = _json_config(ctx.config_data, EXPLAINER_KEY, EXPLAINER_KEY)
        except RenderError:
            pass
        container["image"] = (ctx.settings.related_image_explainer or explainer_config.get("image")
                              or "standin.invalid/alibi-explainer:standin")
    pod_spec = {"containers": [container]}
    # Explainers get no defaultEnvSecretRefName and do not set the pod's service account.
    inject_model_initializer(pod_spec, container["name"], explainer.get("modelUri") or "",
                             explainer.get("serviceAccountName") or "", explainer.get("envSecretRefName") or "",
                             explainer.get("storageInitializerImage") or "", ctx)
    if predictor.get("replicas") == 0:
        replicas = 0
    elif predictor.get("replicas") is None and spec.get("replicas") == 0:
        replicas = 0
    else:
        replicas = _replicas(explainer.get("replicas"))
    return _deployment(sdep, predictor, name, name, pod_spec, {}, replicas)


def init_containers_summary(deployment):
    """Compact view used by logs and tests: name, image, args, envFrom names, env names/sources."""
    summary = []
    for container in deployment["spec"]["template"]["spec"].get("initContainers") or []:
        summary.append({
            "name": container.get("name"),
            "image": container.get("image"),
            "args": container.get("args"),
            "envFrom": [(e.get("secretRef") or {}).get("name") for e in container.get("envFrom") or []],
            "env": [e.get("name") for e in container.get("env") or []],
        })
    return summary
