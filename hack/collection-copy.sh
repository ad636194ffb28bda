#!/usr/bin/env bash
# ansible-test insists on running inside .../ansible_collections/<ns>/<name> (its real path), so
# sanity and integration run on a copy of the tracked and new files, never on .cache or .git.
# Prints the copy's path.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=$root/.cache/ansible-test/ansible_collections/seldon_ops/rclone_migration
rm -rf "$dest"
mkdir -p "$dest"
cd "$root"
git ls-files -z --cached --others --exclude-standard \
  | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' \
  | tar --null -T - -cf - | tar -xf - -C "$dest"
echo "$dest"
