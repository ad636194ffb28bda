# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Counting API requests in the local cluster's audit log (JSON lines, Metadata level).

Usage::

    since = audit.mark()
    ...  # run the code under test
    assert audit.count(since, verb="patch", resource="secrets", namespace="ns") == 2
    assert audit.writes(since) == []   # idempotence: nothing written

Only the ResponseComplete stage is counted (one entry per finished request). Requests sent with
``dryRun`` are kept apart: ``count``/``events``/``writes`` ignore them unless asked with
``dry_run=True``; ``dry_run_writes`` lists them. By default only requests of the audited user
(the admin of the kubeconfig the tests use) are counted, so the background traffic of the
controller-manager, scheduler and kwok never blurs a count; ``user=ANY_USER`` counts everyone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time
import uuid
from urllib.parse import parse_qs, urlsplit

WRITE_VERBS = frozenset(("create", "update", "patch", "delete", "deletecollection"))
ANY_USER = object()
SYNC_PARAMETER = "audit-sync"


def is_dry_run(event):
    """True when the request asked for server-side dry run (``?dryRun=All``)."""
    query = parse_qs(urlsplit(event.get("requestURI", "")).query)
    return bool(query.get("dryRun"))


def is_sync_probe(event):
    """True for the helper's own marker requests, which are never counted."""
    return (SYNC_PARAMETER + "=") in event.get("requestURI", "")


class AuditLog:
    """Reads the API server's audit log from a byte offset onwards.

    ``probe`` is a callable taking a token: it must send one request to the API server whose
    URI carries ``audit-sync=<token>``. The API server writes an entry when a request finishes,
    a moment after the client already has the response; waiting for the probe's own entry makes
    sure every earlier request of the test is in the file before it is read.
    """

    def __init__(self, path, user, probe=None, timeout=10.0):
        self.path = path
        self.user = user
        self.probe = probe
        self.timeout = timeout

    def sync(self):
        """Wait until every request answered so far is in the log (no-op without a probe)."""
        if self.probe is None:
            return
        token = uuid.uuid4().hex
        start = self._size()
        self.probe(token)
        needle = ("%s=%s" % (SYNC_PARAMETER, token)).encode()
        deadline = time.monotonic() + self.timeout
        while True:
            with open(self.path, "rb") as log:
                log.seek(start)
                for line in log:
                    if needle in line and b'"ResponseComplete"' in line:
                        return
            if time.monotonic() > deadline:
                raise AssertionError(
                    "audit log %s did not record the sync request within %ss" % (self.path, self.timeout)
                )
            time.sleep(0.05)

    def _size(self):
        try:
            return os.path.getsize(self.path)
        except OSError:
            return 0

    def mark(self):
        """The current end of the log: pass it to the counting methods as ``since``."""
        self.sync()
        return self._size()

    def _read(self, since):
        self.sync()
        with open(self.path, "rb") as log:
            log.seek(since)
            data = log.read()
        # A last line without its newline is still being written: leave it for the next read.
        for line in data.split(b"\n")[:-1]:
            if line.strip():
                yield json.loads(line)

    def events(self, since, verb=None, resource=None, namespace=None, name=None,
               subresource=None, user=None, dry_run=False):
        """Completed requests since the mark that match every given filter.

        ``verb`` and ``resource`` may be a string or a collection of strings. ``subresource``
        ``""`` means "no subresource". ``dry_run`` False (default) skips dry-run requests, True
        keeps only them, None keeps both.
        """
        wanted_user = self.user if user is None else user
        verbs = _as_set(verb)
        resources = _as_set(resource)
        found = []
        for event in self._read(since):
            if event.get("stage") != "ResponseComplete" or is_sync_probe(event):
                continue
            if wanted_user is not ANY_USER and event.get("user", {}).get("username") != wanted_user:
                continue
            if dry_run is not None and is_dry_run(event) != dry_run:
                continue
            ref = event.get("objectRef") or {}
            if verbs is not None and event.get("verb") not in verbs:
                continue
            if resources is not None and ref.get("resource") not in resources:
                continue
            if namespace is not None and ref.get("namespace") != namespace:
                continue
            if name is not None and ref.get("name") != name:
                continue
            if subresource is not None and ref.get("subresource", "") != subresource:
                continue
            found.append(event)
        return found

    def count(self, since, verb=None, resource=None, namespace=None, **filters):
        """How many completed requests since the mark match (see ``events``)."""
        return len(self.events(since, verb=verb, resource=resource, namespace=namespace, **filters))

    def writes(self, since, **filters):
        """Real (not dry-run) write requests since the mark, as ``"verb resource ns/name"`` lines."""
        filters.setdefault("dry_run", False)
        return [describe(event) for event in self.events(since, verb=WRITE_VERBS, **filters)]

    def dry_run_writes(self, since, **filters):
        """Dry-run write requests since the mark, described as in ``writes``."""
        return self.writes(since, dry_run=True, **filters)


def describe(event):
    """One readable line per request, for assertion messages (no bodies: there are none)."""
    ref = event.get("objectRef") or {}
    resource = ref.get("resource", event.get("requestURI", "?"))
    if ref.get("subresource"):
        resource += "/" + ref["subresource"]
    where = "/".join(part for part in (ref.get("namespace"), ref.get("name")) if part)
    return ("%s %s %s" % (event.get("verb"), resource, where)).strip()


def _as_set(value):
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset((value,))
    return frozenset(value)
