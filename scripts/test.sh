#!/usr/bin/env bash
# Installs what the test suite needs (Debian, as root) and runs all of it: lint, then pytest.
# Extra arguments go to pytest (e.g. `bash scripts/test.sh -k routing`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/common.sh

install_system_packages
make_venv test
install_web_assets

say "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check --quiet . || die "ruff format : lancez « .venv/bin/ruff format . »"

say "pytest"
set +e
.venv/bin/python -m pytest -p no:cacheprovider "$@"
status=$?
set -e
# pytest exits with 5 when it collected no test: that is a failure here, not a success.
[ "$status" -eq 5 ] && die "pytest n'a trouvé aucun test"
exit "$status"
