# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Seldon operator's settings the migration depends on, and the one rule for the storage
initializer image it injects.

Read from SeldonIO/seldon-core ``operator/controllers/model_initializer_injector.go`` (v1.17.1):
the operator reads ConfigMap ``seldon-config`` in its own namespace (the name is fixed) on every
injection, and the env ``RELATED_IMAGE_STORAGE_INITIALIZER`` once at start. Image precedence per
node: the node's ``storageInitializerImage`` > that env (when not empty) > ``seldon-config``
``storageInitializer.image`` (when not empty) > the built-in fallback, which depends on the
release (operator_rules). A ``storageInitializer``
entry that is not valid JSON makes the operator panic on every injection: no model renders.
``PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME`` (helm ``predictiveUnit.defaultEnvSecretRefName``)
is read once at start.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kfserving_secret as ks
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import operator_rules

SELDON_CONFIG_NAME = "seldon-config"
DEFAULT_ENV_SECRET_ENV = "PREDICTIVE_UNIT_DEFAULT_ENV_SECRET_REF_NAME"
RELATED_IMAGE_ENV = "RELATED_IMAGE_STORAGE_INITIALIZER"
STORAGE_INITIALIZER_KEY = "storageInitializer"
CREDENTIALS_KEY = "credentials"

RCLONE_IMAGE_NAME = "rclone-storage-initializer"

SOURCE_NODE = "storageInitializerImage"
SOURCE_CONTROLLER_ENV = "controller env " + RELATED_IMAGE_ENV
SOURCE_SELDON_CONFIG = "seldon-config storageInitializer"
SOURCE_OPERATOR_DEFAULT = "operator default"

InitializerImage = namedtuple("InitializerImage", "image source configmap_image controller_env_image problem")
InitializerImage.__doc__ = """The image the operator injects and where it comes from (SOURCE_*), the two
configured values as read, and ``problem`` ("" or why the operator cannot inject at all)."""


class Settings(namedtuple("Settings", "default_env_secret_ref_name default_env_secret_ref_name_source "
                                      "credentials_config storage_initializer_image "
                                      "storage_initializer_image_source rules watch problems warnings")):
    """The operator settings a plan uses: ``rules`` are the release's (operator_rules.OperatorRules),
    ``watch`` which SeldonDeployments it reconciles (WatchScope);
    ``problems`` say why the operator cannot render any model as configured (a migration must not
    go on), ``warnings`` which settings could not be read."""

    __slots__ = ()

    def public(self):
        """The settings as modules report them, the operator release and problems included
        (warnings are task warnings)."""
        reported = dict(self._asdict())
        reported.pop("warnings")
        reported["operator"] = reported.pop("rules").public()
        reported["watch"] = dict(reported.pop("watch")._asdict())
        return reported


def is_rclone_image(image):
    """True for an image of the rclone storage initializer, from any registry, with any tag or digest.

    >>> is_rclone_image("docker.io/seldonio/rclone-storage-initializer:1.17.1"), is_rclone_image("kfserving/storage-initializer:v0.6.1")
    (True, False)
    """
    if not isinstance(image, str):
        return False
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0] == RCLONE_IMAGE_NAME


WatchScope = namedtuple("WatchScope", "namespace controller_id")
WatchScope.__doc__ = """Which SeldonDeployments the operator reconciles: ``namespace`` ("" for all; from
``--namespace``, overridden by a non-empty env ``WATCH_NAMESPACE``) and ``controller_id`` (env
``CONTROLLER_ID``) that a SeldonDeployment's label ``seldon.io/controller-id`` must equal (main.go and
controllers/seldondeployment_controller.go ``Reconcile``, every tag 1.9-1.17)."""

CONTROLLER_ID_LABEL = "seldon.io/controller-id"


def describe_watch(namespace, controller_id=""):
    """How a watch scope reads in messages and reports.

    >>> describe_watch("models"), describe_watch(""), describe_watch("", "team-a")
    ('namespace models', 'all namespaces', 'all namespaces with CONTROLLER_ID team-a')
    """
    words = "namespace {0}".format(namespace) if namespace else "all namespaces"
    return words + (" with CONTROLLER_ID {0}".format(controller_id) if controller_id else "")


def _namespace_flag(controller):
    """The value of the controller's ``--namespace`` flag ("" when absent)."""
    for container in kube_objects.as_list(kube_objects.pod_spec_of(controller).get("containers")):
        words = [word for key in ("command", "args") for word in kube_objects.as_list(
            kube_objects.as_dict(container).get(key)) if isinstance(word, str)]
        for index, word in enumerate(words):
            if word.lstrip("-").startswith("namespace="):
                return word.split("=", 1)[1]
            if word.lstrip("-") == "namespace" and word.startswith("-") and index + 1 < len(words):
                return words[index + 1]
    return ""


def watch_scope(controller):
    """The controller Deployment's WatchScope (all namespaces, no controller id when not read)."""
    if controller is None:
        return WatchScope("", "")
    return WatchScope(controller_env(controller, "WATCH_NAMESPACE")[0] or _namespace_flag(controller),
                      controller_env(controller, "CONTROLLER_ID")[0] or "")


def watches(scope, sdep, namespace_labels=None):
    """``(True, "")`` when the operator of ``scope`` reconciles ``sdep``, else ``(False, why)``.

    ``namespace_labels`` maps namespace -> labels; a cluster-wide operator skips namespaces labelled
    with a controller id.
    """
    namespace = kube_objects.object_namespace(sdep)
    if scope.namespace and namespace != scope.namespace:
        return False, "the operator watches namespace {0} only".format(scope.namespace)
    if not scope.namespace and kube_objects.as_dict((namespace_labels or {}).get(namespace)).get(CONTROLLER_ID_LABEL):
        return False, "namespace {0} is labelled {1}: another operator manages it".format(namespace, CONTROLLER_ID_LABEL)
    wanted = kube_objects.labels_of(sdep).get(CONTROLLER_ID_LABEL) or ""
    if wanted != scope.controller_id:
        return False, "label {0}={1} does not match the operator's CONTROLLER_ID {2}".format(
            CONTROLLER_ID_LABEL, wanted or '""', scope.controller_id or '""')
    return True, ""


def controller_env(controller, name):
    """``(value, found)`` of an env var on the controller Deployment's containers.

    ``found`` is True with value None when the variable comes from ``valueFrom`` (not readable here).
    """
    for container in kube_objects.as_list(kube_objects.pod_spec_of(controller).get("containers")):
        for env in kube_objects.as_list(kube_objects.as_dict(container).get("env")):
            env = kube_objects.as_dict(env)
            if env.get("name") == name:
                if "valueFrom" in env:
                    return None, True
                return env.get("value") or "", True
    return "", False


def seldon_config_entry(configmap, key):
    """``(parsed JSON object or None, problem)`` of one seldon-config entry.

    The operator unmarshals ``storageInitializer`` and ``credentials`` into structs and panics when
    that fails, so an entry that is not a JSON object stops every model it renders.
    """
    raw = kube_objects.as_dict(kube_objects.as_dict(configmap).get("data")).get(key)
    if not raw:
        return None, ""
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        return None, ("seldon-config {0} is not valid JSON for the operator (an object is expected): it fails "
                      "every model it renders until this is fixed").format(key)
    return parsed, ""


def configured_initializer(configmap):
    """``(image, problem)`` of seldon-config's ``storageInitializer`` JSON ("" when not set)."""
    parsed, problem = seldon_config_entry(configmap, STORAGE_INITIALIZER_KEY)
    image = (parsed or {}).get("image")
    return (image if isinstance(image, str) else ""), problem


def initializer_image(controller, configmap, node_image="", rules=None):
    """The storage initializer image the operator injects for a node (see the module docstring).

    ``controller`` and ``configmap`` as read (None when absent); ``node_image`` the node's own
    ``storageInitializerImage``; ``rules`` the operator's (default: read from ``controller``),
    whose release decides the fallback image.
    """
    rules = rules or operator_rules.rules_of_controller(controller)
    env_image = controller_env(controller, RELATED_IMAGE_ENV)[0] or ""
    configmap_image, problem = configured_initializer(configmap)
    if node_image:
        image, source = node_image, SOURCE_NODE
    elif env_image:
        image, source = env_image, SOURCE_CONTROLLER_ENV
    elif configmap_image:
        image, source = configmap_image, SOURCE_SELDON_CONFIG
    else:
        image, source = rules.fallback_image, SOURCE_OPERATOR_DEFAULT
    return InitializerImage(image, source, configmap_image, env_image, problem)


def _default_env_secret(controller, option):
    """``(name, source, warnings)`` of the default envSecretRefName: the option, else the controller env."""
    if option is not None:
        return option, "option", []
    if controller is None:
        return "", "none", []
    value, found = controller_env(controller, DEFAULT_ENV_SECRET_ENV)
    if found and value is None:
        return "", "none", ["{0} on the controller comes from valueFrom; give default_env_secret_ref_name".format(
            DEFAULT_ENV_SECRET_ENV)]
    if value:
        return value, "controller", []
    return "", "none", []


def seldon_settings(controller, configmap, default_env_secret_ref_name=None, credentials_overrides=None):
    """The Settings from what was read (controller Deployment and seldon-config, either may be None)."""
    default_name, default_source, warnings = _default_env_secret(controller, default_env_secret_ref_name)
    credentials, credentials_problem = seldon_config_entry(configmap, CREDENTIALS_KEY)
    config = ks.credentials_config_from_entry(credentials)
    config.update(dict((key, value) for key, value in (credentials_overrides or {}).items() if value not in (None, "")))
    rules = operator_rules.rules_of_controller(controller)
    image = initializer_image(controller, configmap, rules=rules)
    problems = [problem for problem in (image.problem, credentials_problem) if problem]
    # an unread controller is already a warning of its own (read)
    version_warning = [operator_rules.version_warning(rules)] if controller and operator_rules.version_warning(rules) else []
    return Settings(default_name, default_source, ks.credentials_config(config), image.image, image.source, rules,
                    watch_scope(controller), problems, warnings + version_warning + problems)


# --------------------------------------------------------------------------- reading, through a KubeAccess

ARG_SPEC = {
    "namespaces": {"type": "list", "elements": "str"},
    "seldon_namespace": {"type": "str", "default": "seldon-system"},
    "seldon_controller_name": {"type": "str", "default": "seldon-controller-manager"},
    "read_seldon_config": {"type": "bool", "default": True},
    "default_env_secret_ref_name": {"type": "str"},
    "iam_secret_name": {"type": "str"},
    "credentials_config": {
        "type": "dict",
        "options": {
            "s3_access_key_id_name": {"type": "str"},
            "s3_secret_access_key_name": {"type": "str"},
            "s3_endpoint": {"type": "str"},
            "s3_use_https": {"type": "str"},
            "gcs_credential_file_name": {"type": "str"},
        },
    },
}


def read(access, params, error_type=Exception):
    """GET the controller Deployment and seldon-config (when asked) and derive the Settings.

    A read that fails (403, 404, ...) becomes a warning: the Seldon defaults apply (and the rules
    of the newest operator release read). The controller is read also when the option
    ``default_env_secret_ref_name`` is given: its image tag names the operator's release.
    """
    found = {"Deployment": None, "ConfigMap": None}
    warnings = []
    if params.get("read_seldon_config", True):
        namespace = params.get("seldon_namespace") or "seldon-system"
        reads = [("Deployment", params.get("seldon_controller_name") or "seldon-controller-manager"),
                 ("ConfigMap", SELDON_CONFIG_NAME)]
        for kind, name in reads:
            try:
                found[kind] = access.get(kind, namespace, name)
            except error_type as exc:
                warnings.append("cannot read {0} {1}/{2} ({3}); using Seldon defaults".format(kind, namespace, name, exc))
                continue
            if found[kind] is None:
                warnings.append("{0} {1}/{2} not found; using Seldon defaults".format(kind, namespace, name))
    settings = seldon_settings(found["Deployment"], found["ConfigMap"], params.get("default_env_secret_ref_name"),
                               params.get("credentials_config"))
    return settings._replace(warnings=warnings + settings.warnings)
