# -*- coding: utf-8 -*-
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Galaxy artifact holds the product and nothing else: no tests, scaffolding, caches or reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
import tarfile

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOP_LEVEL = {"plugins", "roles", "playbooks", "meta", "docs", "changelogs", "README.md", "COPYING",
             "MANIFEST.json", "FILES.json"}
CHANGELOG_FILES = {"changelogs", "changelogs/changelog.yaml", "changelogs/config.yaml"}


def build(output, source=ROOT):
    galaxy = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--force", "--output-path", str(output), source],
                   check=True, capture_output=True)
    (artifact,) = [name for name in os.listdir(str(output)) if name.endswith(".tar.gz")]
    with tarfile.open(os.path.join(str(output), artifact)) as tar:
        return tar.getnames()


def test_artifact_holds_exactly_the_product(tmp_path):
    # what a clone holds after `make test`: caches and reports beside the sources
    created = []
    for litter in (".hypothesis/examples/x", ".ansible/roles/x", "reports/preflight/prod.json", "plugins/__pycache__/x.pyc"):
        path = os.path.join(ROOT, litter)
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as handle:
                handle.write("{}")
            created.append(path)
    try:
        names = build(tmp_path)
    finally:
        for path in created:
            os.remove(path)
    assert {name.split("/", 1)[0] for name in names} == TOP_LEVEL
    assert {name for name in names if name.startswith("changelogs")} == CHANGELOG_FILES
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]
    for expected in ("plugins/modules/rclone_secret.py", "plugins/module_utils/status.py",
                     "roles/rclone_migration/meta/argument_specs.yml", "playbooks/migrate.yml", "meta/runtime.yml"):
        assert expected in names
