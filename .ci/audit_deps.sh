#!/usr/bin/env bash
# pip-audit over the pinned requirements (make audit; docs/security.md). Fails on any known vulnerability;
# when the vulnerability service cannot be reached it says so loudly (.ci/audit_report.py) instead of passing
# in silence. AUDIT_STRICT=1: a package that could not be audited fails too. AUDIT_SERVICE=osv: use OSV.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
report=$(mktemp)
trap 'rm -f "$report"' EXIT
strict=()
[ "${AUDIT_STRICT:-0}" = "1" ] && strict=(--strict)
# --no-deps --disable-pip: every requirement is pinned, so no throwaway venv and resolver run.
"$BIN/pip-audit" -r requirements.txt -r requirements-dev.txt --no-deps --disable-pip --progress-spinner off \
  --vulnerability-service "${AUDIT_SERVICE:-pypi}" --format json --output "$report" "${strict[@]}" \
  2> >(grep -v -e "No known vulnerabilities found" -e "encouraged to fully hash" -e "pip-compile" >&2)
status=$?
"$BIN/python" .ci/audit_report.py "$report" "$status"
