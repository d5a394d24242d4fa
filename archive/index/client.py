"""The Elasticsearch client from settings, and the translation of its errors.

Local services run without security; production clusters use an API key or user/password
over TLS with a CA file. Either way only this module builds a client.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch import ConnectionError as ESConnectionError

from ..config import Settings
from ..errors import IndexUnavailable, SearchIndexError


def make_client(settings: Settings) -> Elasticsearch:
    kwargs: dict[str, object] = {"request_timeout": 60, "max_retries": 3, "retry_on_timeout": True}
    if settings.es_api_key is not None:
        kwargs["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        kwargs["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_ca_file is not None:
        kwargs["ca_certs"] = str(settings.es_ca_file)
    return Elasticsearch(settings.es_url, **kwargs)  # type: ignore[arg-type]


@contextmanager
def translate(action: str) -> Iterator[None]:
    """elasticsearch-py errors → IndexUnavailable / SearchIndexError, with one-line messages."""
    try:
        yield
    except ESConnectionError as exc:
        raise IndexUnavailable(f"Elasticsearch unreachable while trying to {action}") from exc
    except ApiError as exc:
        reason = exc.message
        info = exc.body if isinstance(exc.body, dict) else {}
        err = info.get("error")
        if isinstance(err, dict):
            reason = err.get("reason") or err.get("type") or reason
        raise SearchIndexError(f"Elasticsearch refused to {action}: {exc.meta.status} {reason}") from exc
    except TransportError as exc:
        raise IndexUnavailable(f"Elasticsearch failed while trying to {action}: {exc}") from exc
