#!/usr/bin/env bash
# The whole test suite: lint, types, the import contracts, and pytest (unit tests plus integration
# tests against a real lab fleet of sshd hosts, which needs root on Linux).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check remediate tests
.venv/bin/ruff format --check remediate tests
.venv/bin/mypy
.venv/bin/lint-imports  # the layers and other contracts in pyproject.toml (docs/architecture.md)
.venv/bin/python -m pytest "$@"
