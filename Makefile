# One entry point for people and CI. Everything lands under .cache/ (git-ignored).
SHELL := /bin/bash
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV := $(ROOT)/.cache/venv
COLLECTION_LINK := $(ROOT)/.cache/collections/ansible_collections/seldon_ops/rclone_migration
export PATH := $(ROOT)/.cache/bin:$(VENV)/bin:$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(ROOT)/.cache/collections

.PHONY: help venv system-packages collection ee-check tools cluster-up cluster-down cluster-status cluster-env \
        unit sanity lint integration test rehearsal benchmark clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

venv: $(VENV)/.installed  ## Python tools pinned in requirements.txt

collection: venv  ## make the repo visible to Ansible as seldon_ops.rclone_migration
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(ROOT) $(COLLECTION_LINK)

tools:  ## build localkube (etcd, apiserver, controller-manager, scheduler, kubectl), kwok, helm, rclone
	hack/build-tools.sh

cluster-up: tools venv collection system-packages  ## start the local cluster on 127.0.0.1
	hack/cluster.sh up

cluster-down:  ## stop every process cluster-up started
	hack/cluster.sh down

cluster-status:  ## show what runs
	hack/cluster.sh status

cluster-env:  ## print exports: eval "$$(make -s cluster-env)"
	@hack/cluster.sh env

unit: venv collection  ## unit tests and module_utils doctests, no cluster
	cd $(COLLECTION_LINK) && PYTHONPATH=$(ROOT)/.cache/collections \
	  $(VENV)/bin/python -m pytest -q --doctest-modules plugins/module_utils plugins/filter tests/unit tests/standin

system-packages:  ## Debian packages the checks and the cluster need (shellcheck, openssl)
	@command -v shellcheck >/dev/null && command -v openssl >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck openssl >/dev/null; }

sanity: venv system-packages  ## ansible-test sanity on a copy of the collection
	hack/sanity.sh

lint: venv collection  ## ansible-lint, production profile
	$(VENV)/bin/ansible-lint --profile production

ee-check: venv  ## validate execution-environment.yml with ansible-builder create (no image build)
	@ctx=$$(mktemp -d) && trap 'rm -rf "$$ctx"' EXIT && \
	  $(VENV)/bin/ansible-builder create --file execution-environment.yml --context "$$ctx" >/dev/null && \
	  test -s "$$ctx/Dockerfile" -o -s "$$ctx/Containerfile" && echo "execution-environment.yml: ansible-builder create ok"

integration: venv collection  ## integration targets against the running local cluster
	hack/integration.sh

test: ## everything CI runs: unit, sanity, lint, cluster tests (starts and stops the cluster)
	hack/test-all.sh

rehearsal: cluster-up  ## the whole migration on the local cluster
	hack/rehearsal.sh

benchmark: ## request counts and time ratios against the local cluster
	hack/benchmark.sh

clean: cluster-down
	rm -rf .cache
