"""Rewrite the README's settings table and .env.example from app/config.py's SETTINGS (run after adding one)."""

from pathlib import Path

from app.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
HEADER = "| setting | default | what it does |"


def main() -> None:
    rows = [HEADER, "| --- | --- | --- |"]
    rows += [f"| `{s.name}` | {f'`{s.default}`' if s.default else '(empty)'} | {s.help} |" for s in SETTINGS]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start, end = readme.index(HEADER), readme.index("\nProcess-level settings")
    (ROOT / "README.md").write_text(readme[:start] + "\n".join(rows) + "\n" + readme[end:], encoding="utf-8")
    example = [
        "# Template for the environment (systemd EnvironmentFile, docker --env-file, or `set -a; . ./.env`).",
        "# Production (APP_ENV=production) refuses SANDBOX=1, the default SECRET_KEY, SQLite, a missing REDIS_URL,",
        "# an empty outside base URL (it would mean the sandbox twin) and any key or secret left empty.",
        "",
    ]
    for s in SETTINGS:
        example += [f"# {s.help}", f"{s.name}={s.default}"]
    (ROOT / ".env.example").write_text("\n".join(example) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
