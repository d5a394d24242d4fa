"""The harvest run report as markdown (the Prefect artifact and `communis harvest` output)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .health import AccountHealth


def markdown_report(results: Sequence[dict[str, Any]], health: Sequence[AccountHealth]) -> str:
    lines = [
        "# Harvest",
        "",
        "| account | ok | new | edited | deleted | comments | media | unchanged | captures | MB "
        "| quarantined | error |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        c = r.get("counts") or {}
        lines.append(
            f"| {r['account']} | {'yes' if r['ok'] else '**NO**'} | {c.get('new', 0)} | {c.get('edited', 0)} | "
            f"{c.get('deleted', 0)} | {c.get('comments', 0)} | {c.get('media', 0)} | {c.get('unchanged', 0)} | "
            f"{r.get('captures', 0)} | {r.get('bytes', 0) / 1e6:.2f} | {len(r.get('quarantined') or [])} | "
            f"{(r.get('error') or '').replace('|', '/')} |"
        )
    checked = [r for r in results if r.get("completeness")]
    if checked:
        lines += ["", "## Completeness", ""]
        lines += [f"- **{r['account']}**: {str(r['completeness']).replace(chr(10), ' ')}" for r in checked]
    notes = [(r["account"], note) for r in results for note in r.get("notes") or []]
    if notes:
        lines += ["", "## Notes", ""]
        lines += [f"- **{account}**: {note}" for account, note in notes]
    problems = [h for h in health if not h.ok]
    if problems:
        lines += ["", "## ⚠ Accounts that need attention", ""]
        lines += [f"- **{h.account}** ({h.platform}): {h.alarm}" for h in problems]
    return "\n".join(lines) + "\n"
