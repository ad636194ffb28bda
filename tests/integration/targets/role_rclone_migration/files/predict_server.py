#!/usr/bin/env python
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST-ONLY prediction endpoint for the role's prediction check: serves a real scikit-learn
model file in Seldon's REST protocol on 127.0.0.1 (kwok pods run no model server).

POST {"data": {"ndarray": [[...]]}} -> {"data": {"names": [...], "ndarray": [[probabilities]]},
"meta": {"puid": <random per request>}}; the random puid is why the role compares only "data".
Usage: predict_server.py MODEL_FILE PORT_FILE PID_FILE   (writes the port it listens on)
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer


def main(argv):
    import joblib  # pylint: disable=import-outside-toplevel

    model = joblib.load(argv[1])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            try:
                rows = json.loads(self.rfile.read(length))["data"]["ndarray"]
                answer = {
                    "data": {"names": ["t:%d" % i for i in range(len(model.classes_))],
                             "ndarray": [[round(float(p), 6) for p in row] for row in model.predict_proba(rows)]},
                    "meta": {"puid": uuid.uuid4().hex},
                }
                body, status = json.dumps(answer).encode(), 200
            except (ValueError, KeyError, TypeError) as exc:
                body, status = json.dumps({"status": {"info": str(exc)}}).encode(), 400
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    with open(argv[3], "w") as handle:
        handle.write(str(os.getpid()))
    with open(argv[2], "w") as handle:
        handle.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
