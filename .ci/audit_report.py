"""Read pip-audit's JSON report (make audit): fail on vulnerabilities, say loudly what could not be audited.

pip-audit exits 0 when the vulnerability service is unreachable (every package "could not be audited");
this turns that into a visible banner instead of a silent pass. Usage: audit_report.py REPORT.json PIP_AUDIT_STATUS
"""

from __future__ import annotations

import json
import sys

BAR = "!" * 78


def summarise(report: dict, status: int) -> tuple[list[str], int]:
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if "skip_reason" in d]
    audited = len(deps) - len(skipped)
    lines = []
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release"
            lines.append(f"VULNERABLE {dep['name']}=={dep.get('version', '?')}: {vuln['id']} (fixed in: {fixed})")
    lines.append(f"pip-audit: {len(deps)} pinned packages, {audited} audited, {len(vulnerable)} vulnerable, "
                 f"{len(skipped)} not audited")
    if skipped and not audited:
        lines += [BAR,
                  "!! DEPENDENCIES NOT AUDITED: the vulnerability service was unreachable for every package",
                  f"!! (first reason: {skipped[0]['skip_reason']})",
                  "!! Nothing was checked. Run `make audit` where https://pypi.org/pypi/<name>/<version>/json",
                  "!! answers (or AUDIT_SERVICE=osv with api.osv.dev); AUDIT_STRICT=1 makes this a failure.",
                  BAR]
    elif skipped:
        lines.append("not audited: " + ", ".join(d["name"] for d in skipped))
    return lines, (1 if vulnerable else status)


def main(argv: list[str]) -> int:
    path, status = argv[1], int(argv[2])
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError):
        print(f"pip-audit wrote no report (exit {status})")
        return status or 1
    lines, code = summarise(report, status)
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv))
