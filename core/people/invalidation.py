"""Telling every process that cached principals are stale (a key revoked, roles changed).

With ``REDIS_URL`` each API process runs one :class:`Listener`: a daemon thread subscribed
to ``<TOUSU_REDIS_NAMESPACE>:auth:forget``. A revoke (CLI or API, any process) publishes the
key's hash, a role or user change publishes ``*``; every listener drops those entries from
its process's cache. The cache is trusted only while the subscription is live: before the
first subscribe, and from a dropped connection until it is back (when the whole cache is
dropped, since messages may have been missed), principals are read from the database on
every request. Without Redis nothing is cached across requests at all (see
:mod:`core.people.auth`), so a revoke by another process is seen on the next request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("tousu.auth")
ALL = "*"


def channel(namespace: str) -> str:
    return f"{namespace}:auth:forget"


def publish(redis_url: str, namespace: str, key_hashes: list[str] | None) -> None:
    """Tell every listener to drop these keys' principals (``None``: drop all). Best effort:
    when Redis is down, the listeners are disconnected too and trust no cache."""
    from core.redis_clients import sync_client

    try:
        client = sync_client(redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            for message in key_hashes if key_hashes is not None else [ALL]:
                client.publish(channel(namespace), message)
        finally:
            client.close()
    except Exception as exc:  # the revoke itself is committed; say why others may lag
        log.warning("auth cache invalidation not published: %s", exc)


class Listener:
    """A daemon thread applying invalidations to this process's cache."""

    def __init__(self, redis_url: str, namespace: str, drop: Callable[[str | None], None]) -> None:
        self.redis_url = redis_url
        self.namespace = namespace
        self.drop = drop
        self.live = threading.Event()  # subscribed: the cache may be used
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tousu-auth-listener", daemon=True)

    def start(self, wait: float = 2.0) -> Listener:
        self._thread.start()
        self.live.wait(wait)  # usually subscribed at once; if not, the cache stays off
        return self

    def stop(self) -> None:
        self._stop.set()
        self.live.clear()
        self._thread.join(timeout=3)

    def _run(self) -> None:
        from core.redis_clients import sync_client

        while not self._stop.is_set():
            client = sync_client(
                self.redis_url, socket_connect_timeout=1.0, health_check_interval=5
            )
            pubsub = client.pubsub()
            try:
                pubsub.subscribe(channel(self.namespace))
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self.drop(None)  # anything cached before now may have missed news
                        self.live.set()
                    elif message["type"] == "message":
                        data = message["data"].decode()
                        self.drop(None if data == ALL else data)
            except Exception as exc:  # connection lost: distrust the cache until back
                if self.live.is_set():
                    log.warning("auth cache listener disconnected: %s", exc)
                self.live.clear()
                self.drop(None)
                time.sleep(0.5)
            finally:
                try:
                    pubsub.close()
                    client.close()
                except Exception:
                    pass
