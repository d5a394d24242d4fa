"""Every request of a replayed harvest goes to the loopback replay server, whatever host it names.

Recorded responses link to the real platforms: Graph's `paging.next` is a graph.facebook.com URL,
a Mastodon status's media sits on the recording server's host (``localhost:3000``), photos on
fbcdn.net. A connector follows those links as it would in production; `ToLoopback` (an httpx
transport given to `tests.driving.drive`) sends each such request to the replay server instead,
over real HTTP on 127.0.0.1, with the host it named in ``X-Replay-Host`` so that routes can tell
the API from a media host. The connector still sees the URL it asked for (httpx keeps the
request), so its captures, error messages and auth scoping are those of the real exchange. No
request ever leaves the machine.
"""

from __future__ import annotations

import httpx

HOST_HEADER = "x-replay-host"


class ToLoopback(httpx.BaseTransport):
    """An httpx transport that answers every request from the replay server at `base_url`."""

    def __init__(self, base_url: str) -> None:
        self.target = httpx.URL(base_url)
        self.inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        named = request.url.netloc.decode()
        url = request.url.copy_with(scheme=self.target.scheme, host=self.target.host, port=self.target.port)
        headers = [(k, v) for k, v in request.headers.raw if k.lower() != b"host"]
        headers += [(b"host", self.target.netloc), (HOST_HEADER.encode(), named.encode())]
        forwarded = httpx.Request(request.method, url, headers=headers, content=request.read())
        return self.inner.handle_request(forwarded)

    def close(self) -> None:
        self.inner.close()
