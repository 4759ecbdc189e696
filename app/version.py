"""What is running: the product version and the git commit it was built from."""

from __future__ import annotations

import subprocess
from functools import lru_cache

from app.config import ROOT

VERSION = "0.1.0"


@lru_cache(maxsize=1)
def git_commit(configured: str = "") -> str:
    """GIT_COMMIT if set (container builds have no .git), else asked of git once."""
    if configured:
        return configured
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, fixed arguments
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=2,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"
