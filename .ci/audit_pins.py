"""Known-vulnerability check of every installed distribution, for machines
where pip-audit cannot reach a vulnerability database.

pip-audit asks PyPI's per-release JSON endpoint (or OSV). Where only the
per-project endpoint answers (as on this project's build machines), this
script reads the project's current vulnerability list from it: for a
distribution installed at the newest release, that list is exactly the
release's known vulnerabilities. A distribution behind the newest release
cannot be checked this way and is reported as such (and listed as a
warning), never silently passed.

Exit status: 1 when a known vulnerability affects an installed version,
otherwise 0.
"""

import json
import sys
import urllib.request
from importlib import metadata

PYPI = "https://pypi.org/pypi/{}/json"


def project(name):
    with urllib.request.urlopen(PYPI.format(name), timeout=30) as response:  # nosec B310
        return json.load(response)


def main():
    vulnerable, behind, unknown, clean = [], [], [], 0
    for dist in sorted(metadata.distributions(), key=lambda d: d.metadata["Name"].lower()):
        name, version = dist.metadata["Name"], dist.version
        try:
            data = project(name)
        except Exception as exc:  # a private or vanished package: say so
            unknown.append(f"{name} {version}: {exc}")
            continue
        latest = data["info"]["version"]
        for vuln in data.get("vulnerabilities") or []:
            fixed = vuln.get("fixed_in") or []
            if version not in fixed:
                vulnerable.append(f"{name} {version}: {vuln.get('id')} (fixed in {fixed})")
        if version != latest:
            behind.append(f"{name} {version} (newest {latest})")
        elif not data.get("vulnerabilities"):
            clean += 1
    print(f"{clean} installed distributions: newest release, no known vulnerability.")
    for line in behind:
        print(f"warning: not checked, behind the newest release: {line}")
    for line in unknown:
        print(f"warning: could not be looked up: {line}")
    for line in vulnerable:
        print(f"VULNERABLE: {line}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
