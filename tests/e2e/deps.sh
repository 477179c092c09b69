#!/usr/bin/env bash
# Installs what the e2e tests need (docker-registry and skopeo on top of the
# build and integration-test packages): scripts/deps.sh --test does it.
set -euo pipefail
exec bash "$(dirname "$0")/../../scripts/deps.sh" --test
