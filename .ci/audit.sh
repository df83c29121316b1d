#!/usr/bin/env bash
# Supply chain: pip-audit over the CI venv (every installed package, the tested set) against PyPI's
# vulnerability data. Fails on any known vulnerability; when the vulnerability service cannot be
# reached (an offline machine), says how many packages went unaudited and does not fail.
set -uo pipefail
cd "$(dirname "$0")/.."
.venv/bin/pip-audit --progress-spinner off --timeout 20 -f json -o .ci-audit.json >/dev/null 2>.ci-audit.err
rc=$?
.venv/bin/python - "$rc" <<'PY'
import json, sys
rc = int(sys.argv[1])
try:
    deps = json.load(open(".ci-audit.json"))["dependencies"]
except (OSError, ValueError, KeyError):
    err = open(".ci-audit.err").read().strip().splitlines()
    print("pip-audit: no report (" + (err[-1] if err else f"exit status {rc}") + "); nothing was audited")
    sys.exit(0)
vulns = [(d["name"], d["version"], v["id"], ",".join(v.get("fix_versions", []))) for d in deps for v in d.get("vulns", [])]
skipped = [d["name"] for d in deps if d.get("skip_reason")]
print(f"pip-audit: {len(deps)} installed packages, {len(deps) - len(skipped)} audited, {len(skipped)} not audited "
      f"(vulnerability service unreachable or package unknown to it), {len(vulns)} known vulnerabilities")
for name, version, vid, fix in vulns:
    print(f"  {name} {version}: {vid} (fixed in {fix or 'no release yet'})")
sys.exit(1 if vulns else 0)
PY
