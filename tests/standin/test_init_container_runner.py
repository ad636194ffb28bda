# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kubelet-style environment resolution and masking of the init container runner (no cluster)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import os
import sys
import stat

import pytest

import init_container_runner as runner

ACCESS = "AKIAEXAMPLEACCESS"
SECRET = "s3cr3t/Value+with=chars"


def secret(data, **extra):
    obj = {"data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}
    obj.update(extra)
    return obj


SECRETS = {
    "env-secret": secret({"AWS_ACCESS_KEY_ID": ACCESS, "AWS_SECRET_ACCESS_KEY": SECRET,
                          "AWS_ENDPOINT_URL": "http://127.0.0.1:9900", "bad key": "x", "1BAD": "y"}),
    "sa-secret": secret({"awsAccessKeyID": ACCESS, "awsSecretAccessKey": SECRET}),
}


def resolve(container, secrets=None, config_maps=None):
    return runner.resolve_env(container, (SECRETS if secrets is None else secrets).get, (config_maps or {}).get,
                              {"metadata.namespace": "ns"})


def test_env_from_then_env_overrides():
    env, sources, skipped, values = resolve({
        "envFrom": [{"secretRef": {"name": "env-secret"}}],
        "env": [{"name": "AWS_ACCESS_KEY_ID", "valueFrom": {"secretKeyRef": {"name": "sa-secret", "key": "awsAccessKeyID"}}},
                {"name": "AWS_ENDPOINT_URL", "value": "http://other:1"},
                {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "URL2", "value": "$(AWS_ENDPOINT_URL)/x $$(AWS_ENDPOINT_URL) $(UNKNOWN)"}],
    })
    assert env["AWS_ACCESS_KEY_ID"] == ACCESS
    assert sources["AWS_ACCESS_KEY_ID"] == "secret sa-secret key awsAccessKeyID"
    assert env["AWS_SECRET_ACCESS_KEY"] == SECRET
    assert sources["AWS_SECRET_ACCESS_KEY"] == "envFrom secret env-secret"
    assert env["AWS_ENDPOINT_URL"] == "http://other:1"
    assert env["NS"] == "ns"
    assert env["URL2"] == "http://other:1/x $(AWS_ENDPOINT_URL) $(UNKNOWN)"
    assert sorted(skipped) == ["1BAD", "bad key"]
    assert ACCESS in values and SECRET in values


def test_prefix_and_config_map():
    env, _sources, _skipped, values = resolve(
        {"envFrom": [{"prefix": "P_", "configMapRef": {"name": "cm"}}]}, config_maps={"cm": {"data": {"A": "1"}}})
    assert env == {"P_A": "1"}
    assert values == set()


@pytest.mark.parametrize("container, message", [
    ({"envFrom": [{"secretRef": {"name": "nope"}}]}, 'secret "nope" not found'),
    ({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}}]}, 'secret "nope" not found'),
    ({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "sa-secret", "key": "k"}}}]},
     "couldn't find key k in Secret sa-secret"),
])
def test_missing_references_stop_the_container(container, message):
    with pytest.raises(runner.ContainerConfigError, match=message):
        resolve(container)


def test_optional_references_are_skipped():
    env, _sources, _skipped, _values = resolve({
        "envFrom": [{"secretRef": {"name": "nope", "optional": True}}],
        "env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "sa-secret", "key": "k", "optional": True}}}],
    })
    assert not env


def test_masker_hides_plain_and_base64_values():
    mask = runner.Masker({SECRET, ACCESS, "ab", ""})
    text = "key=%s b64=%s id=%s short=ab" % (SECRET, base64.b64encode(SECRET.encode()).decode(), ACCESS)
    masked = mask(text)
    assert SECRET not in masked and ACCESS not in masked
    assert base64.b64encode(SECRET.encode()).decode() not in masked
    assert masked.endswith("short=ab")


@pytest.mark.parametrize("image, kind", [
    ("seldonio/rclone-storage-initializer:1.17.1", "rclone"),
    ("docker.io/seldonio/rclone-storage-initializer:latest", "rclone"),
    ("registry:5000/mirror/rclone-storage-initializer@sha256:abc", "rclone"),
    ("gcr.io/kfserving/storage-initializer:v0.4.0", "kfserving"),
    ("kfserving/storage-initializer:v0.6.1", "kfserving"),
    ("kserve/storage-initializer:v0.10.0", "kfserving"),
    ("busybox", "other"),
])
def test_image_kind(image, kind):
    assert runner.image_kind(image) == kind


def test_error_line_prefers_failure_summary():
    lines = ["2024/01/01 NOTICE: Config file not found", "2024/01/01 ERROR : x: boom",
             "2024/01/01 Failed to copy: didn't find section in config file (\"s3\")", ""]
    assert "didn't find section" in runner.error_line(lines)
    assert runner.error_line(["only line"]) == "only line"


def test_kfserving_image_is_not_simulated():
    container = {"name": "c-model-initializer", "image": "gcr.io/kfserving/storage-initializer:v0.4.0",
                 "args": ["s3://b/p", "/mnt/models"], "envFrom": [{"secretRef": {"name": "env-secret"}}]}
    result = runner.simulate_init_container(container, "ns", {}, "pod", SECRETS.get, {}.get, "/bin/false", 5)
    assert result["status"] == "not simulated"
    assert SECRET not in json.dumps(result) and ACCESS not in json.dumps(result)


@pytest.fixture(name="fake_rclone")
def fake_rclone_fixture(tmp_path):
    """A tiny program in rclone's place that shows what environment and argv the runner gives it.

    Only the runner's own plumbing is under test here; the real rclone runs in tests/e2e.
    """
    path = tmp_path / "bin" / "rclone"
    path.parent.mkdir()
    python = sys.executable
    path.write_text(
        "#!%s\nimport json, os, sys\n"
        "print('argv', json.dumps(sys.argv[1:]), file=sys.stderr)\n"
        "print('env', json.dumps(sorted(os.environ)), file=sys.stderr)\n"
        "print('secret in log', os.environ.get('AWS_SECRET_ACCESS_KEY', ''), file=sys.stderr)\n"
        "os.makedirs(sys.argv[3], exist_ok=True)\n"
        "open(os.path.join(sys.argv[3], 'model.joblib'), 'w').write('m')\n"
        "sys.exit(int(os.environ.get('FAKE_EXIT', '0')))\n" % python)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_rclone_gets_only_the_container_environment(fake_rclone, monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_PROFILE", "leak-me")
    container = {"name": "c-model-initializer", "image": "seldonio/rclone-storage-initializer:1.17.1",
                 "args": ["s3://sklearn/iris", "/mnt/models"], "envFrom": [{"secretRef": {"name": "env-secret"}}]}
    keep = tmp_path / "keep"
    result = runner.simulate_init_container(container, "ns", {}, "pod", SECRETS.get, {}.get, fake_rclone, 30,
                                            keep_dir=str(keep))
    assert result["status"] == "ok", result
    assert result["files"] == [{"path": "model.joblib", "size": 1}]
    assert (keep / "model.joblib").exists()
    env_line = next(line for line in result["log"] if line.startswith("env "))
    names = json.loads(env_line[4:])
    assert "AWS_PROFILE" not in names
    assert set(names) - {"LC_CTYPE"} == {"PATH", "HOME", "RCLONE_CONFIG", "RCLONE_CONFIG_GS_TYPE",
                                         "RCLONE_CONFIG_GS_ANONYMOUS", "RCLONE_VERBOSE", "AWS_ACCESS_KEY_ID",
                                         "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"}
    argv_line = next(line for line in result["log"] if line.startswith("argv "))
    argv = json.loads(argv_line[5:])
    assert argv[:2] == ["copy", "s3://sklearn/iris"] and argv[2].endswith(os.path.join("mnt", "models"))
    dumped = json.dumps(result)
    assert SECRET not in dumped and ACCESS not in dumped
    assert "secret in log ***" in result["log"]


def test_failed_rclone_reports_masked_error(fake_rclone):
    container = {"name": "c-model-initializer", "image": "seldonio/rclone-storage-initializer:1.17.1",
                 "args": ["s3://sklearn/iris", "/mnt/models"],
                 "env": [{"name": "FAKE_EXIT", "value": "1"},
                         {"name": "AWS_SECRET_ACCESS_KEY",
                          "valueFrom": {"secretKeyRef": {"name": "sa-secret", "key": "awsSecretAccessKey"}}}]}
    result = runner.simulate_init_container(container, "ns", {}, "pod", SECRETS.get, {}.get, fake_rclone, 30)
    assert result["status"] == "failed"
    assert result["rclone_exit_code"] == 1
    assert SECRET not in json.dumps(result)


def test_missing_secret_fails_before_rclone(fake_rclone):
    container = {"name": "c-model-initializer", "image": "seldonio/rclone-storage-initializer:1.17.1",
                 "args": ["s3://sklearn/iris", "/mnt/models"], "envFrom": [{"secretRef": {"name": "gone"}}]}
    result = runner.simulate_init_container(container, "ns", {}, "pod", SECRETS.get, {}.get, fake_rclone, 30)
    assert result["status"] == "failed"
    assert result["reason"] == 'CreateContainerConfigError: secret "gone" not found'
