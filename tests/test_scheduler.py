"""The scheduler sends each periodic job once per interval, and with the Redis lock two
scheduler processes still send it once; the CLI commands refuse to run without Redis."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from click.testing import CliRunner
from dramatiq.brokers.stub import StubBroker

from loyalchat.commands.worker import dramatiq_args, scheduler_command, worker_command
from loyalchat.settings import get_settings
from loyalchat.tasks import registry
from loyalchat.tasks.scheduler import (
    Scheduler,
    start_embedded_scheduler,
    stop_embedded_scheduler,
)
from tests.test_tasks_support import fresh_stub_broker


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


def _sent(broker: StubBroker) -> list[str]:
    out = []
    while not broker.queues["default"].empty():
        out.append(json.loads(broker.queues["default"].get_nowait())["actor_name"])
        broker.queues["default"].task_done()
    return out


def _sweep_job(interval: float) -> registry.PeriodicJob:
    from loyalchat.tasks.sweeper import sweep_stuck

    return registry.PeriodicJob("sweep_stuck", sweep_stuck, interval)


@pytest.fixture
def lock_client(redis_url: str):
    client = redis.Redis.from_url(redis_url)
    prefix = f"loyalchat-test:scheduler:{uuid.uuid4().hex}"
    yield client, prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def test_sweeper_is_registered_at_the_configured_interval(stub_broker: StubBroker) -> None:
    jobs = {job.name: job for job in registry.periodic_jobs()}
    assert jobs["sweep_stuck"].actor.actor_name == "sweep_stuck"
    assert jobs["sweep_stuck"].interval_seconds == get_settings().sweep_interval_seconds


def test_one_send_per_interval(stub_broker: StubBroker) -> None:
    scheduler = Scheduler([_sweep_job(60)])
    fired = [t for t in range(960, 1140) if scheduler.tick(float(t))]
    assert fired == [960, 1020, 1080]  # one per 60 s slot, aligned to the clock
    assert _sent(stub_broker) == ["sweep_stuck"] * 3


def test_two_schedulers_with_the_redis_lock_send_once(stub_broker, lock_client) -> None:
    client, prefix = lock_client
    one = Scheduler([_sweep_job(60)], redis_client=client, lock_prefix=prefix)
    two = Scheduler([_sweep_job(60)], redis_client=client, lock_prefix=prefix)
    assert one.tick(1000.0) == ["sweep_stuck"]
    assert two.tick(1000.5) == []  # same slot: the other process already sent it
    assert one.tick(1010.0) == two.tick(1019.0) == []
    # Racing ticks from threads: still exactly one send per slot.
    racers = [
        Scheduler([_sweep_job(60)], redis_client=client, lock_prefix=prefix) for _ in range(8)
    ]
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda s: s.tick(1030.0), racers))
    assert sum(len(r) for r in results) == 1
    assert _sent(stub_broker) == ["sweep_stuck"] * 2


async def test_embedded_scheduler_runs_and_stops(stub_broker: StubBroker) -> None:
    task = start_embedded_scheduler(Scheduler([_sweep_job(0.2)]), tick_seconds=0.02)
    assert start_embedded_scheduler() is task  # idempotent while running
    await asyncio.sleep(0.5)
    await stop_embedded_scheduler()
    assert task.done()
    assert 2 <= len(_sent(stub_broker)) <= 4


@pytest.mark.parametrize("command", [worker_command, scheduler_command])
def test_commands_need_redis(command) -> None:
    result = CliRunner().invoke(command, [])
    assert result.exit_code != 0
    assert "LOYALCHAT_REDIS_URL is not set" in result.output


def test_worker_runs_our_bootstrap_with_dramatiq() -> None:
    from dramatiq.cli import make_argument_parser

    args = make_argument_parser().parse_args(dramatiq_args(2, 3, ("default",)))
    assert (args.broker, args.processes, args.threads) == ("loyalchat.tasks.bootstrap", 2, 3)
    assert args.queues == ["default"]
