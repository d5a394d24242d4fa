"""``python -m simulator serve --port 8765 --seed 1 --posts 200``: run the simulator standalone."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from .mastodon_model import MastodonAccountSpec
from .server import Simulator
from .world import WorldConfig


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start the server, print its addresses, serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m simulator", description="Communis platform simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve Mastodon and WordPress on one port")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--seed", type=int, default=1)
    serve.add_argument("--posts", type=int, default=200, help="Mastodon statuses and blog posts each")
    serve.add_argument("--town", default="Sundsvik")
    serve.add_argument("--token", default=None, help="require this Bearer token on the Mastodon account")
    serve.add_argument("--control-token", default=None)
    serve.add_argument("--oversize-bytes", type=int, default=32 * 1024 * 1024)
    serve.add_argument("--rate-limit", type=int, default=300)
    serve.add_argument("--social-token", default=None, help="require this token on the social platforms")
    serve.add_argument("--only", default=None, help="put --posts posts on this platform alone, the others empty")
    args = parser.parse_args(argv)
    config = WorldConfig(
        seed=args.seed,
        town=args.town,
        oversize_bytes=args.oversize_bytes,
        rate_limit=args.rate_limit,
        social_token=args.social_token,
    )
    config = config.only(args.only, args.posts) if args.only else config.resized(args.posts)
    if args.token:
        accounts = tuple(dataclasses.replace(a, token=args.token) for a in config.mastodon_accounts)
        config = dataclasses.replace(config, mastodon_accounts=accounts)
    sim = Simulator(config, host=args.host, port=args.port, control_token=args.control_token).start()
    first: MastodonAccountSpec = config.mastodon_accounts[0]
    print(f"base      {sim.base_url}")
    print(
        f"mastodon  {sim.mastodon_url}  (acct {first.username}: {sim.mastodon_url}/api/v1/accounts/lookup"
        f"?acct={first.username})"
    )
    print(f"wordpress {sim.wordpress_url}  ({sim.wordpress_url}/wp-json/wp/v2/posts)")
    print(f"control   {sim.base_url}/_sim/state  (Authorization: Bearer {sim.control_token})")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
