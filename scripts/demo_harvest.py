"""The README's first command, after set-up: a demo municipality harvested twice.

Starts the platform simulator (a made-up kommun with one account on every supported platform),
writes an accounts file for it, checks every account's access, and then uses Communis exactly as
an operator would, through the `communis` command: harvest, let the timeline publish, edit and
delete posts and add comments, harvest again, show the accounts' status and searches that find an edited post's both
versions and a deleted post's tombstone, and say where the WARC files and the index are.

Last, how to open the demo's archive in the browser: the demo adds a user `demo` and prints the one
command that serves this archive (its own index prefix, store and data folder, as three `COMMUNIS_*`
variables), the URL of the edited post's record page, and the user's random password, once. Why a
printed command and not a configuration file: `communis.toml` in the working folder would redirect
every later command run there to the demo, and `COMMUNIS_CONFIG` replaces `var/services/local.toml`
(the local services' credentials) instead of adding to it; three variables on one line change
nothing else and show how an installation is configured.

`--port` changes the port of the printed command; `--prefix` and `--only` (and `COMMUNIS_VAR_DIR`,
which moves `var/`) let a test run the smallest demo beside the real one.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
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


COMMUNIS = REPO / ".venv" / "bin" / "communis"
#: The user the demo prints the password of.
DEMO_USER = "demo"
#: The least role that sees the edited post's earlier versions and its provenance: `read-only` is shown
#: only the latest version of items neither deleted nor hidden (archive/access/policy.py: `view-removed`),
#: so its record page would list no versions; `archivist` adds them (and WARC bytes, verify, export)
#: and nothing about users, holds or request cases that the demo needs.
DEMO_ROLE = "archivist"
#: The first user of an installation must be an admin (archive/access/admin.py). This one gets no
#: password, and its one token, used to add `demo`, is revoked at once: nobody can act as it afterwards.
BOOTSTRAP_ADMIN = "demo-admin"
#: Who the audit log names as the client of those steps.
CLIENT = "scripts/demo"


def communis(*args: str, env: dict[str, str]) -> None:
    subprocess.run([str(COMMUNIS), *args], env=env, check=False)


def communis_output(*args: str, env: dict[str, str], stdin: str | None = None) -> str:
    """A command's standard output; a failure stops the demo with the command's own one-line error."""
    done = subprocess.run([str(COMMUNIS), *args], env=env, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"demo: `communis {' '.join(args[:2])}` failed (exit {done.returncode}), see above")
    return done.stdout


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Harvest a demo municipality on the platform simulator, twice.")
    parser.add_argument("--port", type=int, default=8080, help="port in the printed `communis serve` command")
    parser.add_argument(
        "--prefix",
        default="communis-demo",
        help="index prefix of the demo archive (deleted first; must contain 'demo')",
    )
    parser.add_argument("--only", default="", help="harvest only these platforms' accounts (comma-separated)")
    args = parser.parse_args(argv)
    if "demo" not in args.prefix:
        parser.error(f"--prefix {args.prefix}: the demo deletes that archive first, so its name must contain 'demo'")
    return args


def add_demo_user(env: dict[str, str]) -> str:
    """Add `demo` (DEMO_ROLE) with a random password and return the password, which the caller shows once.

    Through the functions behind `communis user add` and `communis user token revoke` (the same checks,
    the same audit events), in this process: three more commands would add seconds to the demo, and
    the password stays out of every argv, environment and file but the user store (as its hash)."""
    from archive.access.admin import add_user, revoke_token
    from archive.access.users import TOKEN_ID_LENGTH, token_digest
    from archive.config import Settings
    from archive.errors import CommunisError

    settings = Settings(
        es_index_prefix=env["COMMUNIS_ES_INDEX_PREFIX"],
        store_path=Path(env["COMMUNIS_STORE_PATH"]),
        data_dir=Path(env["COMMUNIS_DATA_DIR"]),
    )
    password = secrets.token_urlsafe(15)
    try:
        admin, token = add_user(settings, BOOTSTRAP_ADMIN, "admin", None, by=None, client=CLIENT, token_days=1)
        add_user(settings, DEMO_USER, DEMO_ROLE, password, by=admin, client=CLIENT)  # its API token is not needed
        revoke_token(settings, BOOTSTRAP_ADMIN, token_digest(token)[:TOKEN_ID_LENGTH], by=admin, client=CLIENT)
    except CommunisError as exc:
        raise SystemExit(f"demo: cannot add the user {DEMO_USER}: {exc.one_line()}") from None
    return password


def latest_record(env: dict[str, str], account: str, item: str) -> str:
    """The record id of an item's latest archived version, found with `communis search --json`."""
    hits = [
        json.loads(line)
        for line in communis_output("search", "--account", account, "--item", item, "--json", env=env).splitlines()
    ]
    latest = [h["record_id"] for h in hits if h.get("is_latest")]
    if len(hits) < 2 or not latest:
        raise SystemExit(f"demo: {account} item {item} has {len(hits)} archived versions, expected two")
    return str(latest[0])


def open_in_browser(env: dict[str, str], *, account: str, item: str, port: int) -> None:
    """The last step: a user to sign in with, and the command and URL that show the edited post."""
    record = latest_record(env, account, item)
    password = add_demo_user(env)
    names = ("COMMUNIS_ES_INDEX_PREFIX", "COMMUNIS_STORE_PATH", "COMMUNIS_DATA_DIR")
    command = " ".join(
        [
            *(f"{name}={shlex.quote(env[name])}" for name in names),
            shlex.quote(str(COMMUNIS)),
            "serve",
            "--port",
            str(port),
        ]
    )
    console.rule("[bold]Open it in the browser")
    console.print(
        "Serve the demo's archive with its own settings, open the edited post (its versions, thread and "
        f"provenance) and sign in as {DEMO_USER} ({DEMO_ROLE}: every version and the provenance; "
        "read-only users see only what is public now). The password is shown this once:",
        highlight=False,
    )
    # soft_wrap: a long command or URL stays one line, so copying it gives what to run
    for label, value in (
        ("serve:", command),
        ("open:", f"http://127.0.0.1:{port}/records/{record}"),
        ("user:", DEMO_USER),
        ("password:", password),
    ):
        console.print(f"  {label:<10} {value}", soft_wrap=True, highlight=False, markup=False)


def main(argv: list[str] | None = None) -> None:
    args = arguments(argv)
    demo_dir = Path(os.environ.get("COMMUNIS_VAR_DIR") or REPO / "var") / "demo"
    shutil.rmtree(demo_dir, ignore_errors=True)  # every demo starts from an empty archive
    demo_dir.mkdir(parents=True)
    from archive.access import open_users
    from archive.config import Settings
    from archive.index import open_index

    open_index(Settings(es_index_prefix=args.prefix)).destroy()
    open_users(Settings(es_index_prefix=args.prefix)).store.destroy()  # its users (`{prefix}-access`) too
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
        listed = [
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
        if args.only:
            listed = [a for a in listed if a["platform"] in args.only.split(",")]
            if not listed:
                raise SystemExit(f"demo: --only {args.only}: no demo account on those platforms")
        accounts.write_text(yaml.safe_dump({"accounts": listed}, allow_unicode=True, sort_keys=False))
        env = {
            **os.environ,
            "COLUMNS": os.environ.get("COLUMNS", "150"),
            "COMMUNIS_ACCOUNTS_FILE": str(accounts),
            "COMMUNIS_ES_INDEX_PREFIX": args.prefix,
            "COMMUNIS_STORE_PATH": str(demo_dir / "store"),
            "COMMUNIS_DATA_DIR": str(demo_dir / "data"),
            "COMMUNIS_HARVEST_LOOKBACK_DAYS": "60",
            # The simulator is on this machine, which a real installation never harvests (docs/security.md):
            "COMMUNIS_HTTP_ALLOWED_NETWORKS": '["127.0.0.0/8", "::1/128"]',
            "SUNDSVIK_API_TOKEN": DEMO_TOKEN,
            "COMMUNIS_HARVEST_SWEEP_HOURS": "0",
        }  # every run reads old posts' markers: see all new comments
        console.rule(f"[bold]0. {len(listed)} accounts on {len(listed)} platforms: can each be read?")
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
        f"WARC files: {demo_dir / 'store' / 'warc'}   index: Elasticsearch alias {args.prefix}-records "
        f"at {Settings().es_url}   harvest state: index {args.prefix}-harvest (`communis accounts history ACCOUNT`)"
    )
    open_in_browser(env, account="sundsvik-mastodon", item=str(own[-1]["id"]), port=args.port)


if __name__ == "__main__":
    main()
