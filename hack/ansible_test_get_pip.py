"""Local stand-in for the get-pip script that ansible-test downloads to bootstrap pip in the
virtual environments of its sanity tests. Its download host is not reachable from our machines,
so hack/sanity.sh puts this file in ansible-test's cache instead: it installs the interpreter's
bundled pip with ensurepip, then lets that pip install what ansible-test asked for (for example
pip==24.2) from PyPI, as the real script would."""

import subprocess
import sys

GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS])
