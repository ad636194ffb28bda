# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which Seldon Core v1 operator runs, and the rules of that release the migration depends on.

Every rule is read from SeldonIO/seldon-core at the release tags (docs/operator-versions.md names
the file and tag of each). The version comes from the controller Deployment: the tag of its
``manager`` image, else its label ``app.kubernetes.io/version`` (the chart version); when neither
is readable the newest release read (1.17.1) is assumed, and the report says so.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects

NEWEST_READ = (1, 17, 1)
OLDEST_READ = (1, 9, 0)
VERSION_LABEL = "app.kubernetes.io/version"
CONTROLLER_CONTAINER = "manager"

SOURCE_IMAGE_TAG = "controller image tag"
SOURCE_LABEL = "controller label " + VERSION_LABEL
SOURCE_ASSUMED = "assumed (not readable from the controller)"

KFSERVING_FALLBACK = "gcr.io/kfserving/model-initializer:latest"
RCLONE_FALLBACK = "docker.io/seldonio/rclone-storage-initializer:latest"

_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")

# (first version, rclone) shipped in seldonio/rclone-storage-initializer:<tag> (components/
# rclone-storage-initializer/Dockerfile at each tag).
RCLONE_IN_IMAGE = (((1, 9, 0), (1, 55, 1)), ((1, 12, 0), (1, 56, 2)), ((1, 14, 0), (1, 57, 0)), ((1, 15, 0), (1, 59, 1)))
# IAM roles for service accounts (web identity) need rclone 1.57.
RCLONE_FOR_IAM_ROLES = (1, 57, 0)


class OperatorRules(namedtuple("OperatorRules", "version source fallback_image explainer_default_env_secret "
                                                "custom_node_model_uri no_storage_initializer_annotation "
                                                "restart_through_seldon_deployment")):
    """One release's rules (True: the release has the behaviour):

    * ``fallback_image``: the init image when neither the controller env nor seldon-config names one;
    * ``explainer_default_env_secret`` (1.14.0): explainers get defaultEnvSecretRefName;
    * ``custom_node_model_uri`` (1.17.1): non-prepackaged graph nodes with a modelUri get an init container;
    * ``no_storage_initializer_annotation`` (1.15.0): TRITON_SERVER nodes of a SeldonDeployment whose
      ``spec.annotations["seldon.io/no-storage-initializer"]`` is "true" load their model themselves;
    * ``restart_through_seldon_deployment`` (1.16.0): the operator writes its own spec over a model
      Deployment's (a ``kubectl rollout restart`` is undone) and writes SeldonDeployment annotation
      changes into the pod templates; before, a restart of the Deployment lasts and an annotation
      change alone is not written.
    """

    __slots__ = ()

    @property
    def version_text(self):
        return ".".join(str(part) for part in self.version)

    def public(self):
        """As reported: the version, where it was read and the rules in effect."""
        reported = dict(self._asdict())
        reported["version"] = self.version_text
        return reported


def parse_version(text):
    """``(major, minor, patch)`` from the start of a tag or label, or None.

    >>> parse_version("1.17.1"), parse_version("v1.14.0-ubi"), parse_version("latest")
    ((1, 17, 1), (1, 14, 0), None)
    """
    match = _VERSION_RE.match(text.strip()) if isinstance(text, str) else None
    return tuple(int(part) for part in match.groups()) if match else None


def image_tag(image):
    """The tag of an image reference ("" for none or a digest-only reference).

    >>> image_tag("docker.io/seldonio/seldon-core-operator:1.17.1"), image_tag("localhost:5000/op")
    ('1.17.1', '')
    """
    if not isinstance(image, str):
        return ""
    last = image.split("@", 1)[0].rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def controller_version(controller):
    """``(version, source)`` of the operator a controller Deployment runs; ``(None, "")`` when unreadable."""
    containers = kube_objects.as_list(kube_objects.pod_spec_of(controller).get("containers"))
    named = [c for c in containers if kube_objects.as_dict(c).get("name") == CONTROLLER_CONTAINER] or containers[:1]
    for container in named:
        version = parse_version(image_tag(kube_objects.as_dict(container).get("image")))
        if version:
            return version, SOURCE_IMAGE_TAG
    version = parse_version(kube_objects.labels_of(controller).get(VERSION_LABEL))
    return (version, SOURCE_LABEL) if version else (None, "")


def rules_for(version=None, source=""):
    """The OperatorRules of a release; None means the newest read (1.17.1), as assumed."""
    if version is None:
        version, source = NEWEST_READ, SOURCE_ASSUMED
    return OperatorRules(
        version=tuple(version), source=source,
        fallback_image=RCLONE_FALLBACK if version >= (1, 17, 0) else KFSERVING_FALLBACK,
        explainer_default_env_secret=version >= (1, 14, 0),
        custom_node_model_uri=version >= (1, 17, 1),
        no_storage_initializer_annotation=version >= (1, 15, 0),
        restart_through_seldon_deployment=version >= (1, 16, 0),
    )


def rules_of_controller(controller):
    """The OperatorRules of the operator a controller Deployment runs (None: not read)."""
    version, source = controller_version(controller) if controller is not None else (None, "")
    return rules_for(version, source)


def version_warning(rules):
    """Why the rules may not be the running operator's ("" when they are)."""
    if rules.source == SOURCE_ASSUMED:
        return "the operator's version could not be read from its controller: the rules of {0} apply".format(
            rules.version_text)
    if rules.version < OLDEST_READ:
        return "operator {0} is older than the releases read (1.9 to 1.17): the rules of 1.9.0 apply".format(
            rules.version_text)
    if rules.version > NEWEST_READ:
        return "operator {0} is newer than the releases read (1.9 to 1.17.1): the rules of 1.17.1 apply".format(
            rules.version_text)
    return ""


def rclone_in_image(image):
    """The rclone version an rclone-storage-initializer image ships, by its tag (None: unknown)."""
    tag = parse_version(image_tag(image))
    if tag is None:
        return None
    shipped = [rclone for since, rclone in RCLONE_IN_IMAGE if tag >= since]
    return shipped[-1] if shipped else None
