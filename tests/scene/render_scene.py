#!/usr/bin/env python
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the seed scene's manifests (scene.yaml.tmpl) with the local S3 server's credentials.

Values come from the environment at apply time (S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
S3_ENDPOINT; NAMESPACE, default seldon-rehearsal) and are written JSON-quoted, which YAML reads
as plain strings whatever characters they hold. The output goes to stdout for
``kubectl apply -f -``; never write it to a file that could be committed, and never print it.
``--secrets`` renders scene-secrets.yaml.tmpl instead (the SeldonDeployments that hold credentials
themselves, for the no-leak tests), with SCENE_LITERAL_CREDENTIAL, SCENE_CONNECTION_KEY_ID and
SCENE_CONNECTION_SECRET from the environment.
Usage: render_scene.py [--namespace NS] [--template FILE | --secrets]
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TEMPLATE = os.path.join(HERE, "scene.yaml.tmpl")
SECRETS_TEMPLATE = os.path.join(HERE, "scene-secrets.yaml.tmpl")
DEFAULT_NAMESPACE = "seldon-rehearsal"
DEFAULT_S3_ENDPOINT = "http://127.0.0.1:9900"
_PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")


def scene_values(namespace, access_key_id, secret_access_key, endpoint_url):
    """Placeholder values; the endpoint is given as URL and as host[:port] (the s3-endpoint form)."""
    if "://" not in endpoint_url:
        endpoint_url = "http://" + endpoint_url
    host = endpoint_url.split("://", 1)[1].rstrip("/")
    return {
        "NAMESPACE": namespace,
        "S3_ACCESS_KEY_ID": access_key_id,
        "S3_SECRET_ACCESS_KEY": secret_access_key,
        "S3_ENDPOINT_URL": endpoint_url.rstrip("/"),
        "S3_ENDPOINT_HOST": host,
    }


def secret_scene_values(namespace, literal_credential, connection_key_id, connection_secret, endpoint_url):
    """Placeholder values of scene-secrets.yaml.tmpl: a literal pod-template credential and an rclone
    connection string (``:s3,...:bucket/path``) holding a key pair for the local S3 server."""
    if "://" not in endpoint_url:
        endpoint_url = "http://" + endpoint_url
    connection = ":s3,provider=Minio,env_auth=false,access_key_id={0},secret_access_key={1},endpoint='{2}':sklearn/iris".format(
        connection_key_id, connection_secret, endpoint_url.rstrip("/"))
    return {"NAMESPACE": namespace, "SCENE_LITERAL_CREDENTIAL": literal_credential, "SCENE_CONNECTION_URI": connection}


def render(template_text, values):
    """Replace every ${NAME}; a placeholder without a value is an error, not an empty string."""
    missing = sorted({name for name in _PLACEHOLDER.findall(template_text) if not values.get(name)})
    if missing:
        raise KeyError("no value for %s" % ", ".join(missing))
    return _PLACEHOLDER.sub(lambda m: json.dumps(values[m.group(1)]), template_text)


def render_from_environment(namespace=None, template=DEFAULT_TEMPLATE, environ=None):
    environ = os.environ if environ is None else environ
    if template == SECRETS_TEMPLATE:
        values = secret_scene_values(
            namespace or environ.get("NAMESPACE") or DEFAULT_NAMESPACE, environ.get("SCENE_LITERAL_CREDENTIAL", ""),
            environ.get("SCENE_CONNECTION_KEY_ID", ""), environ.get("SCENE_CONNECTION_SECRET", ""),
            environ.get("S3_ENDPOINT") or DEFAULT_S3_ENDPOINT)
        if not all(environ.get(name) for name in ("SCENE_CONNECTION_KEY_ID", "SCENE_CONNECTION_SECRET")):
            raise KeyError("no value for SCENE_CONNECTION_KEY_ID, SCENE_CONNECTION_SECRET")
        with open(template, encoding="utf-8") as handle:
            return render(handle.read(), values)
    values = scene_values(
        namespace or environ.get("NAMESPACE") or DEFAULT_NAMESPACE,
        environ.get("S3_ACCESS_KEY_ID", ""),
        environ.get("S3_SECRET_ACCESS_KEY", ""),
        environ.get("S3_ENDPOINT") or DEFAULT_S3_ENDPOINT,
    )
    with open(template, encoding="utf-8") as handle:
        return render(handle.read(), values)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--namespace", default=None)
    parser.add_argument("--template", default=DEFAULT_TEMPLATE)
    parser.add_argument("--secrets", action="store_true", help="render scene-secrets.yaml.tmpl")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(render_from_environment(args.namespace, SECRETS_TEMPLATE if args.secrets else args.template))
    except KeyError as exc:
        sys.stderr.write("render_scene.py: %s (eval \"$(make -s cluster-env)\" first)\n" % exc.args[0])
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
