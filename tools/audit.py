"""Audit the pinned dependencies with pip-audit, and say how many could NOT be audited.

pip-audit looks each pinned version up in a vulnerability service. Where that service cannot
be reached (as on a machine whose package index serves downloads but not PyPI's per-version
JSON API), pip-audit skips each package and still prints "No known vulnerabilities found",
which reads like a clean bill of health. This wrapper counts the skipped packages and prints
them as NOT audited. It fails on a known vulnerability; it passes with a loud warning when
packages could not be audited, because that is a fact about the machine, not the code.

Usage: python -m tools.audit [requirements.lock]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def audit(lock_file: Path) -> dict[str, object]:
    """Run pip-audit on a hashed lock file and return its JSON report."""
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "audit.json"
        completed = subprocess.run(
            [
                str(PIP_AUDIT),
                "--requirement",
                str(lock_file),
                "--require-hashes",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(report),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if not report.exists():
            sys.stderr.write(completed.stderr)
            raise SystemExit(f"audit: pip-audit failed (exit {completed.returncode})")
        result: dict[str, object] = json.loads(report.read_text(encoding="utf-8"))
        return result


def main(argv: list[str]) -> int:
    """Audit the lock file; print audited, not audited and vulnerable counts."""
    lock_file = Path(argv[0]) if argv else ROOT / "requirements.lock"
    dependencies = audit(lock_file)["dependencies"]
    assert isinstance(dependencies, list)
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    audited = len(dependencies) - len(skipped)
    print(f"audit: {len(dependencies)} pinned packages in {lock_file.name}")
    print(f"audit: {audited} audited, {len(vulnerable)} with known vulnerabilities")
    if skipped:
        print(
            f"audit: WARNING: {len(skipped)} of {len(dependencies)} packages were NOT audited "
            "(the vulnerability service could not be reached or does not know them):"
        )
        print(
            "audit:   " + ", ".join(f"{d['name']} {d.get('version', '')}".strip() for d in skipped)
        )
    for dependency in vulnerable:
        ids = ", ".join(v["id"] for v in dependency["vulns"])
        print(f"audit: VULNERABLE {dependency['name']} {dependency['version']}: {ids}")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
