"""Where background work runs.

* Embedded (no ``REDIS_URL``): ``tousu serve`` starts an in-process dramatiq worker on the
  in-memory broker, and a loop in the server's event loop that relays the outbox and sweeps
  deadlines. One command, no Redis.
* Production (``REDIS_URL`` set): ``dramatiq core.tasks.worker`` processes run the actors;
  ``tousu scheduler`` (APScheduler) relays the outbox every second and enqueues a deadline
  sweep every ``TOUSU_SWEEP_SECONDS``. Several schedulers may run: the relay locks rows
  (SKIP LOCKED) and the sweep is idempotent, so nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from core import metrics
from core.db import Database
from core.deadlines.sweep import sweep
from core.notify.outbound import dispatch
from core.settings import load_settings
from core.tasks.relay import relay_once

log = logging.getLogger("tousu.tasks")
SWEEP_SECONDS = load_settings().sweep_seconds
RELAY_SECONDS = load_settings().relay_seconds


@contextlib.asynccontextmanager
async def embedded(db: Database) -> AsyncIterator[None]:
    """Run the actors in-process and the relay/sweep loop beside the API."""
    import dramatiq

    from core.tasks import worker as tasks

    worker = dramatiq.Worker(tasks.broker, worker_threads=2, worker_timeout=100)
    worker.start()

    async def loop() -> None:
        last_sweep = 0.0
        while True:
            try:
                await relay_once(db, tasks.broker)
                await dispatch(db, tasks.broker)  # email/SMS due (core.notify)
                now = asyncio.get_running_loop().time()
                if now - last_sweep >= SWEEP_SECONDS:
                    with metrics.SWEEP_SECONDS.time():
                        await sweep(db)
                    last_sweep = now
            except Exception:  # keep the loop alive; the next pass retries
                log.exception("background pass failed")
            await asyncio.sleep(RELAY_SECONDS)

    task = asyncio.create_task(loop(), name="tousu-background")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        worker.stop()


def run_scheduler(database_url: str, redis_url: str) -> None:
    """``tousu scheduler``: relay the outbox and enqueue sweeps on a schedule."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from core.tasks.worker import make_broker

    broker = make_broker(redis_url)
    loop = asyncio.new_event_loop()
    db = Database(database_url)
    sweep_message: Any = None

    def relay() -> None:
        report = loop.run_until_complete(relay_once(db, broker))
        if report.sent or report.error:
            log.info("relay: sent %s, pending %s %s", report.sent, report.failed, report.error)
        loop.run_until_complete(dispatch(db, broker))  # email/SMS due (core.notify)

    def enqueue_sweep() -> None:
        import dramatiq

        nonlocal sweep_message
        sweep_message = dramatiq.Message(
            queue_name="default", actor_name="sweep_deadlines", args=(), kwargs={}, options={}
        )
        try:
            broker.enqueue(sweep_message)
        except Exception as exc:  # Redis down: the next tick tries again
            log.warning("sweep not enqueued: %s", exc)

    scheduler = BlockingScheduler()
    scheduler.add_job(relay, "interval", seconds=RELAY_SECONDS, max_instances=1, coalesce=True)
    scheduler.add_job(
        enqueue_sweep, "interval", seconds=SWEEP_SECONDS, max_instances=1, coalesce=True
    )
    log.info("scheduler: relay every %ss, sweep every %ss", RELAY_SECONDS, SWEEP_SECONDS)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        # Ctrl-C / SIGTERM (tousu scheduler turns it into this): let a running relay pass
        # finish on the loop before the loop is used to close the pool, then re-raise.
        scheduler.shutdown(wait=True)
        raise
    finally:
        loop.run_until_complete(db.dispose())
