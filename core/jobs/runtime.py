"""Where background work runs.

* Embedded (no ``TOUSU_BROKER_URL`` nor ``REDIS_URL``): ``tousu serve`` starts an
  in-process dramatiq worker on the in-memory broker, and a loop in the server's event
  loop that relays the outbox, reaps lost deliveries and sweeps deadlines. One command, no
  Redis. The in-memory queue dies with the process; the deliveries do not (they are rows),
  and the first reap of the next start enqueues every pending one again.
* Production (a broker: ``TOUSU_BROKER_URL`` — RabbitMQ or Redis — or ``REDIS_URL``):
  ``dramatiq core.jobs.worker`` processes run the actors;
  ``tousu scheduler`` (APScheduler) relays the outbox every second, reaps every
  ``TOUSU_REAPER_SECONDS`` and enqueues a deadline sweep every ``TOUSU_SWEEP_SECONDS``.
  Several schedulers may run: the relay and the reaper lock rows (SKIP LOCKED), a delivery
  is leased before it is POSTed, and the sweep is idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import msgspec

from core import metrics
from core.db import Database, EngineOptions
from core.jobs.sweep import sweep
from core.notify.outbound import dispatch
from core.settings import Settings, current
from core.tasks.relay import enqueuer, relay_once
from core.tasks.webhooks import DeliveryConfig, reap

log = logging.getLogger("tousu.tasks")


@contextlib.asynccontextmanager
async def embedded(db: Database, settings: Settings) -> AsyncIterator[None]:
    """Run the actors in-process and the relay/reaper/sweep loop beside the API, at the
    app's ``settings`` (relay, reaper and sweep intervals; the worker's egress policy)."""
    import dramatiq

    from core.jobs import worker as tasks

    settings = msgspec.structs.replace(settings, database_url=db.url)
    tasks.use(settings)
    config = DeliveryConfig.from_settings(settings)
    worker = dramatiq.Worker(tasks.broker, worker_threads=2, worker_timeout=100)
    worker.start()

    async def loop() -> None:
        last_sweep = last_reap = 0.0
        first_reap = True
        while True:
            now = asyncio.get_running_loop().time()
            try:
                if first_reap or now - last_reap >= settings.reaper_seconds:
                    # the first pass re-enqueues everything pending: the last process's
                    # in-memory queue is gone (and this one has enqueued nothing yet)
                    await reap(db, enqueuer(tasks.broker), config, everything=first_reap)
                    first_reap, last_reap = False, now
                await relay_once(db, tasks.broker)
                await dispatch(db, tasks.broker)  # email/SMS due (core.notify)
                if now - last_sweep >= settings.sweep_seconds:
                    with metrics.SWEEP_SECONDS.time():
                        await sweep(db)
                    last_sweep = now
            except Exception:  # keep the loop alive; the next pass retries
                log.exception("background pass failed")
            await asyncio.sleep(settings.relay_seconds)

    task = asyncio.create_task(loop(), name="tousu-background")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        worker.stop()


def run_scheduler(database_url: str, broker_url: str, settings: Settings | None = None) -> None:
    """``tousu scheduler``: relay the outbox, reap lost deliveries and enqueue sweeps, at
    the intervals of ``settings`` (the CLI's; read from the environment only when a caller
    gives none — this is the scheduler process's entry point)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    from core.jobs.worker import make_broker

    settings = settings or current()
    config = DeliveryConfig.from_settings(settings)
    broker = make_broker(broker_url, settings)
    loop = asyncio.new_event_loop()
    # APScheduler runs jobs on a thread pool; the database engine lives on this one loop,
    # so the jobs that use it take turns.
    turn = threading.Lock()

    def run(coro: Any) -> Any:
        with turn:
            return loop.run_until_complete(coro)

    db = Database(database_url, EngineOptions.from_settings(settings))
    sweep_message: Any = None

    def relay() -> None:
        try:
            report = run(relay_once(db, broker))
        except Exception as exc:  # database down: the next tick tries again
            log.warning("relay failed: %s: %s", type(exc).__name__, exc)
            return
        if report.sent or report.error:
            log.info(
                "relay: %s events fanned out, %s deliveries enqueued, %s left to the reaper %s",
                report.sent,
                report.enqueued,
                report.failed,
                report.error,
            )
        try:
            run(dispatch(db, broker))  # email/SMS due (core.notify)
        except Exception as exc:  # database down: the next tick tries again
            log.warning("notification dispatch failed: %s: %s", type(exc).__name__, exc)

    def reaper() -> None:
        try:
            report = run(reap(db, enqueuer(broker), config))
        except Exception as exc:  # database down: the next tick tries again
            log.warning("reaper failed: %s: %s", type(exc).__name__, exc)
            return
        if report.enqueued or report.error:
            log.info("reaper: %s deliveries re-enqueued %s", report.enqueued, report.error)

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
    every = {
        relay: settings.relay_seconds,
        reaper: settings.reaper_seconds,
        enqueue_sweep: settings.sweep_seconds,
    }
    for job, seconds in every.items():
        scheduler.add_job(job, "interval", seconds=seconds, max_instances=1, coalesce=True)
    log.info("scheduler: relay every %ss, reaper every %ss, sweep every %ss", *every.values())
    try:
        scheduler.start()
    except KeyboardInterrupt:
        # Ctrl-C / SIGTERM (tousu scheduler turns it into this): let a running relay pass
        # finish on the loop before the loop is used to close the pool, then re-raise.
        scheduler.shutdown(wait=True)
        raise
    finally:
        loop.run_until_complete(db.dispose())
