"""The community home's shared part, cached per community and invalidated through the outbox.

Every event that changes what all callers see of a community's page records a
`community_home_changed` outbox row in its own transaction (a visit scheduled, a standing
recomputed after a review, a like or a completion, a campaign activated, paused or ended);
its handler bumps the community's version, or the generation of every community for a
campaign. A reader rebuilds a page whose stored version is not the current one, so a change
shows as soon as its invalidation has run, and a lost one is re-driven by the outbox
(`relay_stale`, every 5 s). What no event reports (a visit or an activity that ends, a new
question, a campaign's remaining stock) shows when the entry expires.

Where the entries live:
- Redis (REDIS_URL set), shared by every web process: `home:gen` (generation),
  `home:<id>:v` (the community's version) and `home:<id>` ("<gen>:<version>|<json>",
  expiring after SHARED_SECONDS). A page built from reads that started before a bump is never
  stored: the write is a compare-and-set on the versions read before building.
  In front of Redis, each process keeps what it read for LOCAL_SECONDS, so most requests
  touch neither Redis nor the database; an invalidation also drops the copy of the process
  that runs it.
- Otherwise (the embedded default) the same entries in this process's memory.

The bound on staleness (docs/performance.md, "Community home"): a change reported by an event
shows within LOCAL_SECONDS of its invalidation job, which the relay enqueues at commit
(within RELAY_GRACE + relay_stale's period, about 10 s, more if the job was lost); any other
change within SHARED_SECONDS + LOCAL_SECONDS.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from flask import current_app
from redis.exceptions import RedisError

from service_hub.plumbing.outbox import OutboxMessage

log = logging.getLogger(__name__)

KIND = "community_home_changed"
SHARED_SECONDS = 30
LOCAL_SECONDS = 2.0
EXTENSION_KEY = "community_home_cache"
LOCAL_MAX_PAGES = 2000  # per process; the expired ones go first, then all of them
MEMORY_MAX_PAGES = 20000

# Store the page only if no invalidation ran since its versions were read.
_WRITE_IF_CURRENT = """
if (redis.call('get', KEYS[1]) or '0') == ARGV[1]
   and (redis.call('get', KEYS[2]) or '0') == ARGV[2] then
  redis.call('set', KEYS[3], ARGV[3], 'EX', ARGV[4])
  return 1
end
return 0
"""
VERSION_KEY_SECONDS = 24 * 3600  # far longer than a page lives


class RedisStore:
    """Versions and pages in Redis, shared by every process."""

    def __init__(self, redis) -> None:
        self.redis = redis
        self._write = redis.register_script(_WRITE_IF_CURRENT)

    @staticmethod
    def _keys(community_id: int) -> tuple[str, str, str]:
        return "home:gen", f"home:{community_id}:v", f"home:{community_id}"

    def read(self, community_id: int) -> tuple[str, dict | None]:
        """(the current stamp, the stored page if it was built at that stamp)."""
        gen, version, body = self.redis.mget(self._keys(community_id))
        stamp = f"{int(gen or 0)}:{int(version or 0)}"
        if body is not None:
            stored, _, text = body.partition(b"|")
            if stored.decode() == stamp:
                return stamp, json.loads(text)
        return stamp, None

    def write(self, community_id: int, stamp: str, page: dict) -> None:
        """Store the page unless the stamp moved since it was read."""
        gen, version = stamp.split(":")
        body = f"{stamp}|{json.dumps(page, ensure_ascii=False, separators=(',', ':'))}"
        self._write(keys=self._keys(community_id), args=[gen, version, body, SHARED_SECONDS])

    def bump(self, community_id: int | None) -> None:
        """Make the stored page of one community (None: of every community) out of date."""
        if community_id is None:
            self.redis.incr("home:gen")
            return
        _, version_key, _ = self._keys(community_id)
        with self.redis.pipeline() as pipe:
            pipe.incr(version_key).expire(version_key, VERSION_KEY_SECONDS).execute()


class MemoryStore:
    """The same in this process's memory (the embedded default: one process)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.lock = threading.Lock()
        self.gen = 0
        self.versions: dict[int, int] = {}
        self.pages: dict[int, tuple[str, float, dict]] = {}

    def read(self, community_id: int) -> tuple[str, dict | None]:
        with self.lock:
            stamp = f"{self.gen}:{self.versions.get(community_id, 0)}"
            stored = self.pages.get(community_id)
        if stored is not None and stored[0] == stamp and stored[1] > self.clock():
            return stamp, stored[2]
        return stamp, None

    def write(self, community_id: int, stamp: str, page: dict) -> None:
        with self.lock:
            if stamp == f"{self.gen}:{self.versions.get(community_id, 0)}":
                now = self.clock()
                if len(self.pages) >= MEMORY_MAX_PAGES:
                    self.pages = {k: v for k, v in self.pages.items() if v[1] > now}
                self.pages[community_id] = (stamp, now + SHARED_SECONDS, page)

    def bump(self, community_id: int | None) -> None:
        with self.lock:
            if community_id is None:
                self.gen += 1
                self.pages.clear()
            else:
                self.versions[community_id] = self.versions.get(community_id, 0) + 1
                self.pages.pop(community_id, None)


class HomeCache:
    """Shared pages by community id: this process's copies in front of the store."""

    def __init__(self, store, local_seconds: float, clock: Callable[[], float]) -> None:
        self.store = store
        self.local_seconds = local_seconds
        self.clock = clock
        self.local: dict[int, tuple[float, dict]] = {}

    def page(self, community_id: int, build: Callable[[], dict]) -> dict:
        """The community's shared page, built by `build()` (JSON-ready) when out of date."""
        if self.local_seconds:
            held = self.local.get(community_id)
            if held is not None and held[0] > self.clock():
                return held[1]
        try:
            stamp, page = self.store.read(community_id)
        except RedisError:
            # Redis is away: the page is built for this request alone, not kept anywhere.
            log.warning("community home cache unavailable; building page %s", community_id)
            return build()
        if page is None:
            page = build()
            try:
                self.store.write(community_id, stamp, page)
            except RedisError:
                log.warning("community home cache unavailable; page %s not stored", community_id)
                return page
        if self.local_seconds:
            if len(self.local) >= LOCAL_MAX_PAGES:
                now = self.clock()
                self.local = {k: v for k, v in self.local.items() if v[0] > now}
                if len(self.local) >= LOCAL_MAX_PAGES:
                    self.local.clear()
            self.local[community_id] = (self.clock() + self.local_seconds, page)
        return page

    def invalidate(self, community_id: int | None) -> None:
        """The community's page (None: every page) changed."""
        self.store.bump(community_id)
        if community_id is None:
            self.local.clear()
        else:
            self.local.pop(community_id, None)

    def clear(self) -> None:
        """Forget everything this process holds (tests: between two tests' data)."""
        self.local.clear()
        if isinstance(self.store, MemoryStore):
            self.store.bump(None)


def home_cache() -> HomeCache:
    """The app's cache: through the job queue's Redis when there is one, else in memory."""
    app = current_app._get_current_object()
    cache = app.extensions.get(EXTENSION_KEY)
    if cache is None:
        queue = app.extensions["job_queue"]
        redis = getattr(queue, "redis", None)
        if redis is not None:
            cache = HomeCache(RedisStore(redis), LOCAL_SECONDS, time.monotonic)
        else:
            cache = HomeCache(MemoryStore(time.monotonic), 0, time.monotonic)
        cache = app.extensions.setdefault(EXTENSION_KEY, cache)
    return cache


def handle_changed_message(message: OutboxMessage) -> None:
    """Outbox handler for `community_home_changed`: payload {"community_id": id or None}."""
    home_cache().invalidate(message.payload.get("community_id"))
