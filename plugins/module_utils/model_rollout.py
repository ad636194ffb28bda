# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Did the operator really move each model Deployment to the new initializer? (pure)

What counts is what the live objects show, not what a restart request asked for: the operator
writes its own spec over a model Deployment (from 1.16.0 it undoes a ``kubectl rollout restart``;
docs/operator-versions.md, rule 9), so each model Deployment is verified on its own:

* its pod template runs the init image the operator should render for each model node (the
  node's own pin, else the expected global image) with ``envFrom`` the node's env secret;
* its rollout is complete (kubectl's rules, rollout.rollout_status), its newest ReplicaSet is
  fully ready and no pod of an older ReplicaSet is left;
* its ``generation`` stays put once it is complete (the 1.16-1.17.1 explainer update loop makes it
  climb on every reconcile).

A lasting restart goes through what the operator owns: from 1.16.0 an annotation in the
SeldonDeployment's ``spec.annotations``, which it copies into every pod template; before, where
such a change alone is not written, the Deployment's own ``restartedAt``, which then lasts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections import namedtuple

from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import json_patch
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import kube_objects
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import rollout
from ansible_collections.seldon_ops.rclone_migration.plugins.module_utils import seldon_graph as sg

RESTART_ANNOTATION = "rclone-migration.seldon-ops.io/restarted-at"
SELDON_ID_LABEL = "seldon-deployment-id"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
RESTART_THROUGH_SELDON_DEPLOYMENT = "seldon_deployment_annotation"
RESTART_THROUGH_DEPLOYMENT = "deployment_restarted_at"

Expectation = namedtuple("Expectation", "ref image secret")
Expectation.__doc__ = """What one init container should look like: the node it loads (``ref``), the
image (None: the operator keeps a hand-written one as written) and the env secret ("" for none)."""

RestartPlan = namedtuple("RestartPlan", "patch")


# --------------------------------------------------------------------------- expectations

def expectations(sdep, rules, global_image, default_env_secret_ref_name=""):
    """``{(deployment name or None, init container name): Expectation}`` for one SeldonDeployment.

    The deployment name is set for explainers (their Deployment is ``<sdep>-<predictor>-explainer``);
    graph nodes are matched by init container name in any of the SeldonDeployment's Deployments.
    """
    nodes, _ignored = sg.model_loading_nodes(sdep, rules)
    expected = {}
    for node in nodes:
        if node["problem"]:
            continue
        # a hand-written init container is kept as written: neither its image nor its envFrom is the operator's
        secret = "" if node["custom_initializer"] else sg.effective_env_secret(node, default_env_secret_ref_name)[0]
        image = None if node["custom_initializer"] else (node["storage_initializer_image"] or global_image)
        if node["kind"] == sg.KIND_EXPLAINER:
            deployment = "{0}-{1}-explainer".format(node["deployment"], node["predictor"])
            expected[(deployment, sg.initializer_container_name(deployment))] = Expectation(node["ref"], image, secret)
            continue
        names = [node["custom_initializer"] or sg.initializer_container_name(node["node"])]
        if node["implementation"] == sg.TENSORFLOW_SERVER:
            names.append(sg.initializer_container_name(sg.TFSERVING_CONTAINER))
        for name in names:
            expected.setdefault((None, name), Expectation(node["ref"], image, secret))
    return expected


def _env_from_secrets(container):
    return [kube_objects.as_dict(source.get("secretRef")).get("name")
            for source in kube_objects.as_list(container.get("envFrom")) if isinstance(source, dict)]


def template_findings(deployment, expected, restart=None):
    """Problems of a Deployment's pod template against the expectations (empty: as expected);
    ``restart``: ``(annotation, value)`` the pod template must carry after this run's restart."""
    findings = []
    name = kube_objects.object_name(deployment)
    if restart:
        template = kube_objects.as_dict(kube_objects.as_dict(deployment.get("spec")).get("template"))
        if kube_objects.annotations_of(template).get(restart[0]) != restart[1]:
            findings.append("pod template does not carry the restart {0} yet".format(restart[1]))
    for container in kube_objects.as_list(kube_objects.pod_spec_of(deployment).get("initContainers")):
        container = kube_objects.as_dict(container)
        init_name = container.get("name") or ""
        wanted = expected.get((name, init_name)) or expected.get((None, init_name))
        if wanted is None:
            continue
        if wanted.image is not None and container.get("image") != wanted.image:
            findings.append("init container {0} runs {1}, expected {2}".format(init_name, container.get("image"),
                                                                               wanted.image))
        if wanted.secret and wanted.secret not in _env_from_secrets(container):
            findings.append("init container {0} does not read secret {1} (envFrom)".format(init_name, wanted.secret))
    return findings


# --------------------------------------------------------------------------- rollout state

def _revision(obj):
    try:
        return int(kube_objects.annotations_of(obj).get(REVISION_ANNOTATION) or 0)
    except ValueError:
        return 0


def _owned_by(obj, owner):
    uid = kube_objects.metadata_of(owner).get("uid")
    return any(kube_objects.as_dict(ref).get("uid") == uid
               for ref in kube_objects.as_list(kube_objects.metadata_of(obj).get("ownerReferences")))


def rollout_findings(deployment, replica_sets, pods):
    """Problems of a Deployment's rollout: kubectl's rules, the newest ReplicaSet fully ready, no pod
    of an older ReplicaSet left (empty: rolled out)."""
    state, message = rollout.rollout_status("Deployment", deployment)
    if state != rollout.COMPLETE:
        return [message or state]
    owned = [rs for rs in replica_sets if _owned_by(rs, deployment)]
    if not owned:
        return ["no ReplicaSet found"]
    newest = max(owned, key=_revision)
    spec_replicas = int(kube_objects.as_dict(newest.get("spec")).get("replicas") or 0)
    ready = int(kube_objects.as_dict(newest.get("status")).get("readyReplicas") or 0)
    findings = [] if ready >= spec_replicas else ["newest ReplicaSet {0}: {1} of {2} pods ready".format(
        kube_objects.object_name(newest), ready, spec_replicas)]
    older = [rs for rs in owned if rs is not newest]
    left = [pod for pod in pods if any(_owned_by(pod, rs) for rs in older)]
    if left:
        findings.append("{0} pod(s) of older ReplicaSets left".format(len(left)))
    return findings


def generation_finding(first_seen, last_seen, polls):
    """A note when a complete Deployment's generation kept climbing while it was watched."""
    if last_seen - first_seen >= 2:
        return ("generation climbed from {0} to {1} over {2} polls after the rollout completed: the operator keeps "
                "updating it (the explainer update loop of 1.16-1.17.1?)").format(first_seen, last_seen, polls)
    return ""


# --------------------------------------------------------------------------- restarts

def restart_method(rules):
    """How a restart lasts with this operator release (see the module docstring)."""
    return RESTART_THROUGH_SELDON_DEPLOYMENT if rules.restart_through_seldon_deployment else RESTART_THROUGH_DEPLOYMENT


def restart_annotation(method, restarted_at):
    """``(pod template annotation, value)`` a restart with ``method`` leaves in every pod template
    (the operator copies the SeldonDeployment's spec.annotations there)."""
    if not restarted_at:
        return None
    key = RESTART_ANNOTATION if method == RESTART_THROUGH_SELDON_DEPLOYMENT else rollout.RESTARTED_AT_ANNOTATION
    return key, restarted_at


def plan_seldon_restart(sdep, restarted_at):
    """Guarded JSON patch setting our restart annotation in ``spec.annotations`` (None: already set)."""
    annotations = kube_objects.as_dict(kube_objects.as_dict(sdep.get("spec")).get("annotations"))
    if annotations.get(RESTART_ANNOTATION) == restarted_at:
        return RestartPlan(None)
    container = kube_objects.as_dict(sdep.get("spec")).get("annotations")
    return RestartPlan([json_patch.guard(sdep)] + json_patch.set_keys(
        container if isinstance(container, dict) else None, "/spec/annotations", {RESTART_ANNOTATION: restarted_at}))


# --------------------------------------------------------------------------- verification over time

Verified = namedtuple("Verified", "namespace name seldon_deployment verified findings generation generation_note")
Verified.__doc__ = """One model Deployment as last seen: ``verified`` when its template and rollout
are as expected and its generation stayed put; ``findings`` say what is not as expected,
``generation_note`` ("" or) that the generation kept climbing once it was complete."""


def verify_once(snapshot, expected_by_sdep, restart=None):
    """``{(namespace, name): (findings, generation, seldon deployment)}`` for one snapshot.

    ``snapshot`` is ``(deployments, replica_sets, pods)`` as listed (labelled seldon-deployment-id);
    ``expected_by_sdep`` maps ``(namespace, sdep name)`` to ``expectations``.
    """
    deployments, replica_sets, pods = snapshot
    seen = {}
    for deployment in deployments:
        namespace = kube_objects.object_namespace(deployment)
        sdep_name = kube_objects.labels_of(deployment).get(SELDON_ID_LABEL)
        if (namespace, sdep_name) not in expected_by_sdep:
            continue
        same_namespace = [obj for obj in replica_sets if kube_objects.object_namespace(obj) == namespace]
        namespace_pods = [obj for obj in pods if kube_objects.object_namespace(obj) == namespace]
        findings = (template_findings(deployment, expected_by_sdep[(namespace, sdep_name)], restart)
                    + rollout_findings(deployment, same_namespace, namespace_pods))
        generation = int(kube_objects.metadata_of(deployment).get("generation") or 0)
        seen[kube_objects.object_key(deployment)] = (findings, generation, sdep_name)
    return seen


def verify_until(take_snapshot, expected_by_sdep, timeout, interval, settle_polls, clock, sleep, restart=None):
    """Poll (one snapshot per round) until every model Deployment is as expected (with ``restart``,
    see template_findings), or ``timeout``; then watch ``settle_polls`` more rounds for a climbing
    generation - a Deployment that moves again meanwhile starts the watch over. Returns Verified entries."""
    deadline = clock() + timeout
    first_generation = {}
    polls, done_at = 0, None
    while True:
        seen = verify_once(take_snapshot(), expected_by_sdep, restart)
        polls += 1
        for key, (findings, generation, _sdep) in seen.items():
            if not findings:
                first_generation.setdefault(key, generation)
        if any(findings for findings, _generation, _sdep in seen.values()):
            done_at = None
        elif done_at is None:
            done_at = polls
        if (done_at is not None and polls - done_at >= settle_polls) or clock() >= deadline:
            break
        sleep(min(interval, max(deadline - clock(), 0)))
    entries = []
    for (namespace, name), (findings, generation, sdep_name) in sorted(seen.items(), key=lambda item: (
            item[0][0] or "", item[0][1] or "")):
        note = generation_finding(first_generation.get((namespace, name), generation), generation, polls)
        entries.append(Verified(namespace, name, sdep_name, not findings and not note, findings, generation, note))
    return entries
