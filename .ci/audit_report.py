"""Reads pip-audit's JSON report (see .ci/audit) and decides: 1 on a known vulnerability,
0 with one clear line when the advisory service could not be reached, 0 when clean."""

import json
import sys
from pathlib import Path

UNREACHABLE = (
    "ConnectionError",
    "ProxyError",
    "NameResolutionError",
    "Max retries exceeded",
    "Timeout",
    "SSLError",
)
NOT_FOUND = "not found on PyPI"


def main(report: str, stderr: str, status: str) -> int:
    errors = Path(stderr).read_text(errors="replace")
    path = Path(report)
    if not path.is_file() or not path.stat().st_size:
        if any(marker in errors for marker in UNREACHABLE):
            last = errors.strip().splitlines()[-1] if errors.strip() else ""
            print(
                f"pip-audit: ADVISORY SERVICE UNREACHABLE, dependencies NOT audited ({last[:200]})"
            )
            return 0
        print(errors, file=sys.stderr)
        print(f"pip-audit failed (exit {status}) without a report", file=sys.stderr)
        return int(status) or 1

    dependencies = json.loads(path.read_text())["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    if vulnerable:
        print(f"pip-audit: {len(vulnerable)} dependencies with known vulnerabilities")
        return 1
    if dependencies and len(skipped) == len(dependencies):
        reason = skipped[0]["skip_reason"]
        print(
            "pip-audit: ADVISORY SERVICE UNREACHABLE, dependencies NOT audited "
            f"(all {len(skipped)} skipped, e.g. {reason!r})"
        )
        return 0
    for dep in skipped:
        print(f"pip-audit: not audited: {dep['name']} {dep['version']}: {dep['skip_reason']}")
    print(f"pip-audit: no known vulnerabilities in {len(dependencies) - len(skipped)} dependencies")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
