#!/usr/bin/env bash
# ansible-test insists on running inside .../ansible_collections/<ns>/<name> (its real path), and
# inside our work tree it would take .cache as ignored and see no files. So sanity and integration
# run on a fresh copy of the tracked and new files in a temporary folder of their own (parallel
# runs don't collide). Prints the copy's path; the caller removes the folder above ansible_collections.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
base=$(mktemp -d "${TMPDIR:-/tmp}/seldon_ops-ansible-test.XXXXXX")
dest=$base/ansible_collections/seldon_ops/rclone_migration
mkdir -p "$dest"
cd "$root"
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' path; do [ -e "$path" ] && printf '%s\0' "$path"; done \
  | tar --null -T - -cf - | tar -xf - -C "$dest"
# ansible-test only sees collections beside ours: link the dependencies from the venv's ansible package.
installed=$(python -c 'import ansible_collections; print(list(ansible_collections.__path__)[0])')
for dependency in kubernetes/core amazon/aws; do
  mkdir -p "$base/ansible_collections/${dependency%/*}"
  ln -s "$installed/$dependency" "$base/ansible_collections/$dependency"
done
echo "$dest"
