"""The disposition list as markdown, for the nightly flow's artifact: what a records manager reads."""

from __future__ import annotations

from schemas.schedule import DispositionList, ListSummary


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_report(plan: DispositionList | ListSummary, *, max_files: int = 200) -> str:
    e = plan.excluded
    lines = [
        f"# Disposition list {plan.id}",
        "",
        f"As of {plan.as_of:%Y-%m-%d %H:%M} UTC, planned by {plan.planned_by}. **{len(plan.groups)} files, "
        f"{plan.record_count} records, {plan.byte_count} bytes** may be disposed of once approved.",
        "",
        f"To approve: `communis retention show {plan.id}`, then `communis retention approve {plan.id}` "
        "(a records manager who did not plan it, signed in); a third person executes with `communis retention dispose "
        f"{plan.id}`. The full list is `retention/lists/{plan.id}.csv` in the store.",
        "",
        "| file | account | rules | decision | records | bytes | captured | due since |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for g in plan.groups[:max_files]:
        lines.append(
            f"| {_md(g.key)} | {_md(g.account)} | {', '.join(c.rule_id for c in g.rules)} | "
            f"{_md('; '.join(c.decision.cite() for c in g.rules))} | {g.record_count} | {g.bytes} | "
            f"{g.first_captured:%Y-%m-%d} – {g.last_captured:%Y-%m-%d} | {g.retention_met:%Y-%m-%d} |"
        )
    if len(plan.groups) > max_files:
        lines.append(f"| … {len(plan.groups) - max_files} more files in the CSV | | | | | | | |")
    lines += [
        "",
        "## Kept",
        "",
        f"- {e.held} due records under legal hold; {e.open_case} in open public-records requests",
        f"- {e.no_rule} records under no rule and {e.draft_rule} under draft rules only (keeping is the default)",
        f"- {e.not_due} not yet due; {e.kept_by_rule} kept by an earlier keep/transfer rule",
        f"- {e.file_kept} due records in {len(plan.kept_files)} files that must stay whole:",
    ]
    lines += [f"  - {_md(k.key)}: {_md(k.reason)}" for k in plan.kept_files[:max_files]]
    return "\n".join(lines) + "\n"
