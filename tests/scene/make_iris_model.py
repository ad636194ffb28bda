#!/usr/bin/env python
# Copyright: Contributors to seldon_ops.rclone_migration
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Train the seed tutorial's iris classifier and save it as <dir>/model.joblib.

Uses the iris data set bundled with scikit-learn (no download), so the model can be made on a
machine without internet. SKLEARN_SERVER loads exactly this file name. Deterministic: the same
scikit-learn version gives the same predictions.
Usage: make_iris_model.py DIR
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys


def make_model(directory):
    """Fit a logistic regression on iris, dump it to directory/model.joblib, return facts."""
    import joblib  # pylint: disable=import-outside-toplevel
    from sklearn.datasets import load_iris  # pylint: disable=import-outside-toplevel
    from sklearn.linear_model import LogisticRegression  # pylint: disable=import-outside-toplevel

    data = load_iris()
    model = LogisticRegression(max_iter=1000)
    model.fit(data.data, data.target)
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "model.joblib")
    joblib.dump(model, path)
    return {
        "path": path,
        "size": os.path.getsize(path),
        "training_accuracy": round(float(model.score(data.data, data.target)), 4),
        # The request the seed tutorial sends, and what this model answers.
        "sample_request": [[5.964, 4.006, 2.081, 1.031]],
        "sample_prediction": model.predict_proba([[5.964, 4.006, 2.081, 1.031]]).round(4).tolist(),
    }


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make_iris_model.py DIR\n")
        return 2
    print(json.dumps(make_model(argv[1]), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
