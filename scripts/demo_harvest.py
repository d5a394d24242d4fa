"""The README's first command, after set-up: a demo municipality harvested twice.

Starts the platform simulator (a made-up kommun with one account on every supported platform),
writes an accounts file for it, checks every account's access, and then uses Communis exactly as
an operator would, through the `communis` command: harvest, let the timeline publish, edit and
delete posts and add comments, harvest again, show the accounts' status and searches that find an edited post's both
versions and a deleted post's tombstone, and say where the WARC files and the index are.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator import Simulator, Timeline, WorldConfig  # noqa: E402

console = Console()
DEMO_TOKEN = "demo-token-not-secret"
DEPARTMENTS = {
    "youtube": "Kultur- och fritidsnämnden",
    "flickr": "Kultur- och fritidsnämnden",
    "linkedin": "HR-avdelningen",
    "tiktok": "Ungdomsrådet",
}


def communis(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(REPO / ".venv" / "bin" / "communis"), *args], env=env, check=False)


def main() -> None:
    demo_dir = REPO / "var" / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)  # every demo starts from an empty archive
    demo_dir.mkdir(parents=True)
    from archive.config import Settings
    from archive.index import open_index

    open_index(Settings(es_index_prefix="communis-demo")).destroy()
    # The made-up history ends yesterday, so "now" on the platforms is now for Communis too.
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    world = WorldConfig(
        start=(end - timedelta(days=730)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        end=end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        social_token=DEMO_TOKEN,
    ).resized(80)
    with Simulator(world) as sim:
        accounts = demo_dir / "accounts.yaml"
        truth = sim.state()["platforms"]
        # One account on every other platform; the API credential is named, and lives in the environment.
        others = [
            {
                "id": f"sundsvik-{name}",
                "platform": name,
                "handle": truth[name]["handle"],
                "display_name": f"Sundsviks kommun ({name})",
                "department": DEPARTMENTS.get(name, "Kommunstyrelsen"),
                "retention_class": "social-10y",
                "base_url": sim.url(name),
                **({"credentials": {"env": "SUNDSVIK_API_TOKEN"}} if truth[name]["needs_token"] else {}),
            }
            for name in sim.platforms
        ]
        accounts.write_text(
            yaml.safe_dump(
                {
                    "accounts": [
                        {
                            "id": "sundsvik-blogg",
                            "platform": "wordpress",
                            "handle": "blogg.sundsvik.example",
                            "display_name": "Kommunstyrelsens ordförande blogg",
                            "department": "Kommunstyrelsen",
                            "retention_class": "social-10y",
                            "base_url": sim.wordpress_url,
                        },
                        {
                            "id": "sundsvik-mastodon",
                            "platform": "mastodon",
                            "handle": "@sundsvik",
                            "display_name": "Sundsviks kommun på Mastodon",
                            "department": "Kommunstyrelsen",
                            "retention_class": "social-10y",
                            "base_url": sim.mastodon_url,
                        },
                        *others,
                    ]
                },
                allow_unicode=True,
                sort_keys=False,
            )
        )
        env = {
            **os.environ,
            "COLUMNS": os.environ.get("COLUMNS", "150"),
            "COMMUNIS_ACCOUNTS_FILE": str(accounts),
            "COMMUNIS_ES_INDEX_PREFIX": "communis-demo",
            "COMMUNIS_STORE_PATH": str(demo_dir / "store"),
            "COMMUNIS_DATA_DIR": str(demo_dir / "data"),
            "COMMUNIS_HARVEST_LOOKBACK_DAYS": "60",
            # The simulator is on this machine, which a real installation never harvests (docs/security.md):
            "COMMUNIS_HTTP_ALLOWED_NETWORKS": '["127.0.0.0/8", "::1/128"]',
            "SUNDSVIK_API_TOKEN": DEMO_TOKEN,
            "COMMUNIS_HARVEST_SWEEP_HOURS": "0",
        }  # every run reads old posts' markers: see all new comments
        console.rule(f"[bold]0. {len(others) + 2} accounts on {len(others) + 2} platforms: can each be read?")
        communis("accounts", "check", env=env)
        console.rule("[bold]1. First harvest: everything the accounts ever published")
        communis("harvest", env=env)

        console.rule("[bold]2. Meanwhile on the platforms")
        state = sim.state()
        own = sorted(
            (i for i in state["mastodon"]["items"] if i["role"] == "own" and not i["deleted"]),
            key=lambda i: i["created_at"],
        )
        posts = sorted(
            (i for i in state["wordpress"]["items"] if i["type"] == "post" and not i["deleted"]),
            key=lambda i: i["date_gmt"],
        )
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console) as progress:
            task = progress.add_task("publishing, editing, deleting, commenting", total=None)
            sim.apply(
                Timeline()
                .add("mastodon.publish", account="sundsvik", text="Nu öppnar badplatsen i Ålsta 🏖️ #sommar")
                .add(
                    "mastodon.edit",
                    id=own[-1]["id"],
                    text="Rättelse: vattenavstängningen gäller Storgatan 1–15, inte hela gatan. #vatten",
                )
                .add("mastodon.delete", id=own[-2]["id"])
                .add("mastodon.reply", in_reply_to_id=own[-1]["id"], text="Tack! Gäller det även Ågatan?")
                .add(
                    "wordpress.edit",
                    id=posts[-1]["id"],
                    text="Budgeten för 2025 är nu antagen av fullmäktige. Uppdaterad text.",
                )
                .add("wordpress.delete", id=posts[-2]["id"])
                .add(
                    "wordpress.comment",
                    post=posts[0]["id"],
                    text="En fråga om ett gammalt inlägg: ring mig på 070-123 45 67",
                    author_name="Eva Öberg",
                    pii=True,
                )
            )
            for name in sim.platforms:  # the same on every other platform
                rows = [r for r in sim.state()["platforms"][name]["items"] if r["kind"] == "post" and r["visible"]]
                rows.sort(key=lambda r: r["created_at"])
                sim.apply(
                    Timeline()
                    .add(f"{name}.publish", text=f"Välkommen till vårt nya konto! 🎉 ({name})", images=1)
                    .add(f"{name}.edit", no=rows[-1]["no"], text=rows[-1]["text"] + " Rättelse: kl. 19.")
                    .add(f"{name}.delete", no=rows[-2]["no"])
                    .add(f"{name}.comment", post=rows[0]["no"], text="Gäller det här fortfarande?")
                )
            progress.update(
                task,
                description=f"done: {2 + len(sim.platforms)} new posts, "
                f"{2 + len(sim.platforms)} edits and deletions, new comments",
            )
        console.print(
            f"edited Mastodon status {own[-1]['id']}, deleted {own[-2]['id']}; "
            f"edited blog post {posts[-1]['id']}, deleted {posts[-2]['id']}"
        )

        console.rule("[bold]3. Second harvest: only what is new or changed")
        communis("harvest", env=env)
        console.rule("[bold]4. Accounts")
        communis("accounts", "status", env=env)
        console.rule("[bold]5. Search: the edited post, both versions")
        communis("search", "vattenavstängningen", "--platform", "mastodon", env=env)
        communis("search", "--account", "sundsvik-mastodon", "--item", own[-1]["id"], env=env)
        communis("search", "--account", "sundsvik-blogg", "--item", f"post-{posts[-1]['id']}", env=env)
        console.rule("[bold]6. Search: deleted posts are kept, marked as tombstones")
        communis("search", "--deleted", env=env)
        console.rule("[bold]7. Search across every platform")
        communis("search", "Välkommen till vårt nya konto", env=env)
    console.rule("[bold]Where things are")
    console.print(
        f"WARC files: {demo_dir / 'store' / 'warc'}   index: Elasticsearch alias communis-demo-records "
        f"at {Settings().es_url}   harvest state: index communis-demo-harvest (`communis accounts history ACCOUNT`)"
    )


if __name__ == "__main__":
    main()
