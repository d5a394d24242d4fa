"""The Elasticsearch client from settings, and the translation of its errors.

The local node and production clusters alike run with security: a user and password (or an API
key), over TLS with a CA file off this machine. Only this module builds a client.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from elasticsearch import ApiError, Elasticsearch, TransportError
from elasticsearch import ConnectionError as ESConnectionError

from ..config import Settings
from ..errors import IndexUnavailable, SearchIndexError

Client = Elasticsearch
"""The client's type, for modules above the index that hand one on without importing elasticsearch."""


def make_client(settings: Settings) -> Elasticsearch:
    kwargs: dict[str, object] = {
        "request_timeout": settings.es_timeout_seconds,
        "max_retries": settings.es_max_retries,
        "retry_on_timeout": True,
    }
    if settings.es_api_key is not None:
        kwargs["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username and settings.es_password is not None:
        kwargs["basic_auth"] = (settings.es_username, settings.es_password.get_secret_value())
    if settings.es_ca_file is not None:
        kwargs["ca_certs"] = str(settings.es_ca_file)
    return Elasticsearch(settings.es_url, **kwargs)  # type: ignore[arg-type]


def empty_data_stream(es: Elasticsearch, name: str) -> None:
    """Remove a data stream's events where the cluster cannot delete data streams (the local one).

    The stream is rolled over and its old backing indices deleted: the events go and an empty
    write index stays (test and benchmark clean-up only; production never empties a log).
    """
    exists = es.indices.resolve_index(name=name).get("data_streams", [])
    if exists:
        rolled = es.indices.rollover(alias=name)
        backing = [i for i in exists[0]["backing_indices"] if i != rolled["new_index"]]
        if backing:
            es.indices.delete(index=",".join(backing))


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
