"""Communis platform simulator: a made-up municipality's Mastodon account and WordPress blog over real HTTP.

Harvest connectors are tested against it exactly as against the platforms: same paths, query
parameters, pagination headers, timestamp formats, error bodies and rate-limit headers
(the platforms as docs/platforms.md describes them; decisions noted in ``mastodon.py`` and ``wordpress.py``).
Product code never imports this package, and it imports nothing from Communis.

Start one in a test::

    from simulator import Simulator, Timeline

    with Simulator(seed=1) as sim:                       # ephemeral port on 127.0.0.1
        sim.mastodon_url                                 # http://127.0.0.1:PORT/m   (instance root)
        sim.wordpress_url                                # http://127.0.0.1:PORT/wp  (site root)
        sim.apply(Timeline().advance(hours=1).add("mastodon.publish", text="Hej! #Sundsvik"))
        truth = sim.state()                              # ground truth: every item, hash, versions

Or standalone: ``python -m simulator serve --port 8765 --seed 1 --posts 200`` (prints the URLs and
the control token). Over HTTP, ``POST {base}/_sim/timeline`` takes the same events and
``GET {base}/_sim/state`` returns the ground truth (``Authorization: Bearer <control token>``).

Modules: ``world`` (config, models, ground truth), ``timeline`` (events), ``mastodon`` / ``wordpress``
(handlers), ``server`` (HTTP, faults, control API), ``faults`` (fault rules, rate limiter),
``textgen`` (Swedish/English text with personal data), ``media`` (PNG/JPEG/MP4 bytes).
Everything is generated from the seed by position, so large accounts are cheap and repeatable.
"""

from __future__ import annotations

from .clock import SimClock
from .faults import FaultRule, RateLimiter
from .mastodon_model import MastodonAccountSpec
from .server import LoggedRequest, Simulator
from .textgen import luhn_valid
from .timeline import Timeline, TimelineError, apply_events
from .world import World, WorldConfig

__all__ = [
    "FaultRule",
    "LoggedRequest",
    "MastodonAccountSpec",
    "RateLimiter",
    "SimClock",
    "Simulator",
    "Timeline",
    "TimelineError",
    "World",
    "WorldConfig",
    "apply_events",
    "luhn_valid",
]
