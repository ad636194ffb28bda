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

The rules differ between operator releases: ``OperatorSettings.version`` (read from the controller
Deployment's image tag) selects them, as docs/operator-versions.md (``operator_rules``) lists them.

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
from decimal import Decimal

MODEL_MOUNT_PATH = "/mnt/models"
PVC_URI_PREFIX = "pvc://"
PVC_SOURCE_MOUNT_NAME = "kfserving-pvc-source"
PVC_SOURCE_MOUNT_PATH = "/mnt/pvc"
KFSERVING_FALLBACK_IMAGE = "gcr.io/kfserving/model-initializer:latest"
RCLONE_FALLBACK_IMAGE = "docker.io/seldonio/rclone-storage-initializer:latest"
DEFAULT_INITIALIZER_IMAGE = RCLONE_FALLBACK_IMAGE  # the fallback of the default version (1.17.1)
STORAGE_INITIALIZER_KEY = "storageInitializer"
CREDENTIALS_KEY = "credentials"
PREDICTOR_SERVERS_KEY = "predictor_servers"
EXPLAINER_KEY = "explainer"
NOT_PREPACKAGED = frozenset(
    ["SIMPLE_MODEL", "SIMPLE_ROUTER", "RANDOM_ABTEST", "AVERAGE_COMBINER", "UNKNOWN_IMPLEMENTATION"]
)
TENSORFLOW_SERVER = "TENSORFLOW_SERVER"
TRITON_SERVER = "TRITON_SERVER"
TFSERVING_CONTAINER_NAME = "tfserving"
NO_STORAGE_INITIALIZER_ANNOTATION = "seldon.io/no-storage-initializer"
# Before 1.15.0 a non-empty RELATED_IMAGE_<server> env stood in for a predictor_servers entry.
RELATED_SERVER_IMAGE_ENV = {
    "SKLEARN_SERVER": "RELATED_IMAGE_SKLEARNSERVER",
    "XGBOOST_SERVER": "RELATED_IMAGE_XGBOOSTSERVER",
    "MLFLOW_SERVER": "RELATED_IMAGE_MLFLOWSERVER",
    "TENSORFLOW_SERVER": "RELATED_IMAGE_TENSORFLOW",
}

# The operator release whose rules apply when the controller's version cannot be read.
DEFAULT_OPERATOR_VERSION = (1, 17, 1)
# First operator release with each behaviour (docs/operator-versions.md, operator_rules).
RULES = {
    "explainer_pod_service_account": (1, 10, 0),
    "explainer_default_env_secret": (1, 14, 0),
    "no_storage_initializer_annotation": (1, 15, 0),
    "predictor_servers_entry_always_required": (1, 15, 0),
    "selector_change_recreates": (1, 15, 0),
    "three_way_patch_update": (1, 16, 0),  # whole-spec compare; seen removing restartedAt at 1.17.1
    "rclone_for_non_prepackaged_model_uri": (1, 17, 1),
    "explainer_update_loop": (1, 17, 1),  # seen at 1.17.1; same code from 1.16.0 (not reproduced there)
}
FALLBACK_IMAGES = [((1, 9, 0), KFSERVING_FALLBACK_IMAGE), ((1, 17, 0), RCLONE_FALLBACK_IMAGE)]
VERSION_LABEL = "app.kubernetes.io/version"
CONTROLLER_CONTAINER = "manager"
_VERSION_TEXT = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")

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
EXPLAINER_ANNOTATION = "standin.seldon-ops.test/explainer"
LOOP_ANNOTATION = "standin.seldon-ops.test/explainer-update-loop"

# Kubernetes resource.Quantity, as resource.ParseQuantity accepts it (decimal and binary suffixes,
# decimal exponents). The operator refuses to inject when any of the four values does not parse.
_QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")


class RenderError(Exception):
    """A SeldonDeployment the operator would refuse (its reconcile would fail with this reason)."""


def parse_version(text):
    """``MAJOR.MINOR.PATCH`` at the start of an image tag or label (``v`` and suffixes ignored)."""
    match = _VERSION_TEXT.match((text or "").strip())
    return tuple(int(part) for part in match.groups()) if match else None


def format_version(version):
    return ".".join(str(part) for part in version)


def has_rule(version, rule):
    return tuple(version) >= RULES[rule]


def fallback_image(version):
    image = FALLBACK_IMAGES[0][1]
    for since, candidate in FALLBACK_IMAGES:
        if tuple(version) >= since:
            image = candidate
    return image


def _controller_container(deployment):
    containers = ((deployment or {}).get("spec", {}).get("template", {}).get("spec", {}).get("containers")) or []
    for container in containers:
        if container.get("name") == CONTROLLER_CONTAINER:
            return container
    for container in containers:
        if "seldon-core-operator" in (container.get("image") or ""):
            return container
    return containers[0] if containers else None


def operator_version(deployment):
    """(version, source): the controller image's tag, else the Deployment's app.kubernetes.io/version
    label (the real chart writes the chart version there), else (None, reason)."""
    container = _controller_container(deployment)
    image = (container or {}).get("image") or ""
    name = image.split("@", 1)[0]
    tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else ""
    version = parse_version(tag)
    if version:
        return version, "image %s" % image
    label = (((deployment or {}).get("metadata") or {}).get("labels") or {}).get(VERSION_LABEL)
    version = parse_version(label)
    if version:
        return version, "label %s=%s" % (VERSION_LABEL, label)
    if not deployment:
        return None, "no controller Deployment"
    return None, "no version in image %r or label %s" % (image, VERSION_LABEL)


class OperatorSettings:
    """What the real controller reads once, from its own environment, when it starts; plus its
    release (``version``), which decides the rules."""

    def __init__(self, related_image_storage_initializer="", default_env_secret_ref_name="",
                 related_image_explainer="", version=None, version_source="default",
                 related_server_images=None):
        self.related_image_storage_initializer = related_image_storage_initializer or ""
        self.default_env_secret_ref_name = default_env_secret_ref_name or ""
        self.related_image_explainer = related_image_explainer or ""
        self.version = tuple(version) if version else DEFAULT_OPERATOR_VERSION
        self.version_source = version_source if version else "default %s (%s)" % (
            format_version(DEFAULT_OPERATOR_VERSION), version_source)
        self.related_server_images = dict(related_server_images or {})

    def has(self, rule):
        return has_rule(self.version, rule)

    @classmethod
    def from_controller_deployment(cls, deployment):
        """Read the controller container's env (plain ``value`` entries, as helm renders them)
        and the operator version (``operator_version``)."""
        env = {}
        if deployment:
            containers = deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
            for container in containers:
                for item in container.get("env") or []:
                    if "value" in item and item.get("name") not in env:
                        env[item["name"]] = item.get("value") or ""
        version, source = operator_version(deployment)
        return cls(
            related_image_storage_initializer=env.get("RELATED_IMAGE_STORAGE_INITIALIZER", ""),
            default_env_secret_ref_name=env.get("PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME", ""),
            related_image_explainer=env.get("RELATED_IMAGE_EXPLAINER", ""),
            version=version, version_source=source,
            related_server_images={server: env.get(name, "") for server, name in RELATED_SERVER_IMAGE_ENV.items()},
        )

    def as_dict(self):
        return {
            "operator_version": format_version(self.version),
            "operator_version_source": self.version_source,
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
    seldon-config storageInitializer.image > the release's fallback (kfserving model-initializer
    before 1.17.0, rclone-storage-initializer from 1.17.0, both ``:latest``)."""
    if node_image:
        return node_image
    if settings.related_image_storage_initializer:
        return settings.related_image_storage_initializer
    if storage_config.get("image"):
        return storage_config["image"]
    return fallback_image(settings.version)


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


def predictor_servers_config(config_data):
    """seldon-config ``predictor_servers`` as a dict, or None when the key is absent (the test
    chart has none; the real chart always renders it)."""
    if PREDICTOR_SERVERS_KEY not in (config_data or {}):
        return None
    raw = config_data.get(PREDICTOR_SERVERS_KEY)
    if raw in (None, "", "null"):
        return {}
    return _json_config(config_data, PREDICTOR_SERVERS_KEY, PREDICTOR_SERVERS_KEY)


def require_server_config(node, ctx):
    """GetPrepackServerConfig: a prepackaged node needs a predictor_servers entry, or (before
    1.15.0) a non-empty RELATED_IMAGE_<server> env; else the reconcile fails. Only checked when
    seldon-config has a predictor_servers key at all (a deliberate difference, see README)."""
    servers = predictor_servers_config(ctx.config_data)
    implementation = node.get("implementation") or ""
    if servers is None or implementation in servers:
        return
    if (not ctx.settings.has("predictor_servers_entry_always_required")
            and ctx.settings.related_server_images.get(implementation)):
        return
    raise RenderError("Failed to get server config for %s" % implementation)


def _server_image(node, protocol, config_data):
    """Main container image: seldon-config predictor_servers ``protocols`` entry, else a placeholder."""
    implementation = node.get("implementation") or ""
    try:
        servers = predictor_servers_config(config_data) or {}
    except RenderError:
        servers = {}
    protocols = (servers.get(implementation) or {}).get("protocols") or {}
    protocol = protocol or "seldon"
    image_config = protocols.get(protocol)
    if image_config is None and protocol in ("v2", "kfserving"):
        image_config = protocols.get("kfserving" if protocol == "v2" else "v2")
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
    """createDeploymentWithoutEngine: labels, and the annotations of the SeldonDeployment's spec,
    the predictor and the componentSpec metadata on both the Deployment and its pod template.
    ``replicas`` None means the operator sets none (the API server defaults it)."""
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
    copied_annotations = dict((sdep.get("spec") or {}).get("annotations") or {})
    copied_annotations.update(predictor.get("annotations") or {})
    copied_annotations.update((pod_metadata or {}).get("annotations") or {})
    template_metadata = {"labels": template_labels}
    if copied_annotations:
        template_metadata["annotations"] = dict(copied_annotations)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": metadata.get("namespace"),
            "labels": labels,
            "annotations": dict(copied_annotations),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {LABEL_SELDON_ID: sid, "app": name}},
            "template": {"metadata": template_metadata, "spec": pod_spec},
        },
    }
    if metadata.get("uid"):
        deployment["metadata"]["ownerReferences"] = [_owner_reference(sdep)]
    # The stand-in's record of the pod spec it last wrote: the operator's own compare (exact before
    # 1.16.0, its last-applied copy after) also sees fields the rendering dropped.
    deployment["metadata"]["annotations"][HASH_ANNOTATION] = stable_hash(pod_spec)
    return deployment


def _replicas(*candidates):
    """The first replicas set, from the most specific to the most general; None when none is."""
    for value in candidates:
        if value is not None:
            return int(value)
    return None


def _inject_for_node(pod_spec, container_name, node, ctx):
    env_secret_ref = node.get("envSecretRefName") or ctx.settings.default_env_secret_ref_name
    inject_model_initializer(pod_spec, container_name, node.get("modelUri") or "",
                             node.get("serviceAccountName") or "", env_secret_ref,
                             node.get("storageInitializerImage") or "", ctx)


def _triton_without_initializer(pod_spec, node, ctx):
    """no-storage-initializer: Triton reads the modelUri itself; the secret goes to its container."""
    env_secret_ref = node.get("envSecretRefName") or ctx.settings.default_env_secret_ref_name
    container = _find_container(pod_spec, node.get("name"))
    if container is not None and env_secret_ref and not container.get("envFrom"):
        container["envFrom"] = [{"secretRef": {"name": env_secret_ref}}]


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
    no_storage = (ctx.settings.has("no_storage_initializer_annotation")
                  and str((spec.get("annotations") or {}).get(NO_STORAGE_INITIALIZER_ANNOTATION, "")).lower() == "true")
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
            prepackaged = is_prepackaged(node)
            if not prepackaged and not (node.get("modelUri")
                                        and ctx.settings.has("rclone_for_non_prepackaged_model_uri")):
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
            if not prepackaged:
                # 1.17.1: a custom node with a modelUri gets the same initializer on its own
                # container; its serviceAccountName is not copied to the pod.
                _inject_for_node(pod_spec, node.get("name"), node, ctx)
                continue
            require_server_config(node, ctx)
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
            if no_storage and node.get("implementation") == TRITON_SERVER:
                _triton_without_initializer(pod_spec, node, ctx)
                continue
            _inject_for_node(pod_spec, container_name, node, ctx)
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
    env_secret_ref = explainer.get("envSecretRefName") or ""
    if not env_secret_ref and ctx.settings.has("explainer_default_env_secret"):
        env_secret_ref = ctx.settings.default_env_secret_ref_name
    inject_model_initializer(pod_spec, container["name"], explainer.get("modelUri") or "",
                             explainer.get("serviceAccountName") or "", env_secret_ref,
                             explainer.get("storageInitializerImage") or "", ctx)
    if explainer.get("serviceAccountName") and ctx.settings.has("explainer_pod_service_account"):
        pod_spec["serviceAccountName"] = explainer["serviceAccountName"]
    if predictor.get("replicas") == 0:
        replicas = 0
    elif predictor.get("replicas") is None and spec.get("replicas") == 0:
        replicas = 0
    else:
        replicas = _replicas(explainer.get("replicas"))
    deployment = _deployment(sdep, predictor, name, name, pod_spec, {}, replicas)
    deployment["metadata"]["annotations"][EXPLAINER_ANNOTATION] = "true"
    return deployment


# -- how the operator writes a rendered Deployment over the live one -----------------------------

_SUFFIX = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60,
           "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": 1, "k": 10 ** 3,
           "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15, "E": 10 ** 18}


def quantity_value(text):
    """resource.Quantity as a number ("0.5" and "500m" are the same), or None."""
    if not _valid_quantity(text):
        return None
    match = re.match(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(.*)$", text)
    number, suffix = Decimal(match.group(1)), match.group(2)
    if suffix[:1] in ("e", "E") and suffix not in _SUFFIX:
        return number * (Decimal(10) ** int(suffix[1:]))
    return number * _SUFFIX[suffix]


def derivative(rendered, live, quantities=False):
    """equality.Semantic.DeepDerivative: every field the rendering sets equals the live one
    (unset/empty rendered fields match anything; lists must have the same length; resource
    quantities compare by value, as the API server rewrites them canonically)."""
    if rendered is None or rendered == "" or rendered == {} or rendered == []:
        return True
    if isinstance(rendered, dict):
        if not isinstance(live, dict):
            return False
        return all(derivative(value, live.get(key), quantities or key == "resources")
                   for key, value in rendered.items())
    if isinstance(rendered, list):
        if not isinstance(live, list) or len(rendered) != len(live):
            return False
        return all(derivative(a, b, quantities) for a, b in zip(rendered, live))
    if quantities and isinstance(rendered, str) and isinstance(live, str):
        value = quantity_value(rendered)
        return value is not None and value == quantity_value(live)
    return rendered == live


def _template_metadata(deployment):
    meta = (((deployment.get("spec") or {}).get("template") or {}).get("metadata")) or {}
    return {"labels": meta.get("labels") or {}, "annotations": meta.get("annotations") or {}}


def deployment_difference(desired, live, version):
    """Why the operator of ``version`` would write ``desired`` over ``live`` (None: it would not).

    Up to 1.15.x the operator compares only the pod spec (``spec.template.spec``): a changed
    replicas count or pod-template annotation alone is not written, and a pod-template annotation
    added by someone else (kubectl rollout restart) stays until the pod spec differs. From 1.16.0
    the whole spec counts (seen at 1.17.1: a rollout restart's restartedAt is removed).
    """
    want = desired["metadata"]["annotations"][HASH_ANNOTATION]
    if (live["metadata"].get("annotations") or {}).get(HASH_ANNOTATION) != want:
        return "rendered pod spec changed"
    desired_spec, live_spec = desired["spec"], live.get("spec") or {}
    if not derivative(desired_spec["template"]["spec"], (live_spec.get("template") or {}).get("spec")):
        return "pod spec differs"
    if has_rule(version, "three_way_patch_update"):
        if _template_metadata(desired) != _template_metadata(live):
            return "pod template metadata differs"
        rest = {k: v for k, v in desired_spec.items() if k != "template"}
        if not derivative(rest, live_spec):
            return "spec differs"
    return None


def update_body(desired, live, version):
    """What the operator PUTs: its rendered spec over the live one (replicas kept when it renders
    none); from 1.16.0 also its labels and annotations, before only the spec."""
    body = json.loads(json.dumps(desired))
    body["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
    if body["spec"].get("replicas") is None and (live.get("spec") or {}).get("replicas") is not None:
        body["spec"]["replicas"] = live["spec"]["replicas"]
    if not has_rule(version, "three_way_patch_update"):
        labels = dict(live["metadata"].get("labels") or {})
        annotations = dict(live["metadata"].get("annotations") or {})
        annotations[HASH_ANNOTATION] = desired["metadata"]["annotations"][HASH_ANNOTATION]
        annotations.pop(EXPLAINER_ANNOTATION, None)
        if EXPLAINER_ANNOTATION in desired["metadata"]["annotations"]:
            annotations[EXPLAINER_ANNOTATION] = "true"
        body["metadata"]["labels"] = labels
        body["metadata"]["annotations"] = annotations
    return body


def selector_changed(desired, live):
    return desired["spec"]["selector"] != (live.get("spec") or {}).get("selector")


def explainer_update_loops(desired, live, version):
    """1.17.1: an explainer that renders no replicas, once updated, is updated on every reconcile
    (its last-applied copy holds the replicas the update kept). The stand-in marks the first
    update with LOOP_ANNOTATION; each rewrite changes it, so generation climbs as on the cluster."""
    return (has_rule(version, "explainer_update_loop")
            and EXPLAINER_ANNOTATION in desired["metadata"]["annotations"]
            and desired["spec"].get("replicas") is None
            and LOOP_ANNOTATION in (live["metadata"].get("annotations") or {}))


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
