"""Several photos read at once in one process (OCR lanes), models loaded before the first
photo (warm-up), and idle queue workers that look for new messages often.

Real models, real threads and a real dramatiq worker; nothing timed: what is asserted is
what a member would notice going wrong (a wrong or mixed-up reading when photos arrive
together, a first photo that waits for models, a worker that would not see its queue).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
from dramatiq.brokers.stub import StubBroker

from loyalchat.pluginmanager import build_plugin_manager, use_plugin_manager
from loyalchat.plugins.rapidocr.engine import (
    RapidOcrEngine,
    RapidOcrSettings,
    _lanes,
    lane_plan,
)
from loyalchat.receipts import readout
from loyalchat.tasks import registry
from loyalchat.tasks.embedded import EmbeddedWorker
from tests.drawn_receipts import RECEIPT_LINES, as_bytes, draw_receipt
from tests.test_tasks_support import fresh_stub_broker


@pytest.fixture(autouse=True)
def clean_db() -> None:
    """No database here: skip the suite's table truncation."""


@pytest.fixture
def stub_broker() -> Iterator[StubBroker]:
    yield from fresh_stub_broker()  # type: ignore[misc]


def test_lane_plan_reads_two_at_once_on_two_cores_unless_told() -> None:
    default = RapidOcrSettings(lanes=0)
    assert lane_plan(default, cores=2) == 2
    assert lane_plan(default, cores=16) == 2
    assert lane_plan(default, cores=1) == 1
    assert lane_plan(RapidOcrSettings(lanes=3), cores=2) == 3
    assert lane_plan(RapidOcrSettings(lanes=1), cores=8) == 1


def test_lanes_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOYALCHAT_OCR_LANES", "3")
    assert RapidOcrSettings().lanes == 3
    monkeypatch.setenv("LOYALCHAT_OCR_LANES", "two")
    with pytest.raises(ValueError, match="LOYALCHAT_OCR_LANES"):
        RapidOcrSettings()


async def test_photos_read_at_once_each_get_their_own_reading() -> None:
    """Four different receipts through two lanes at once: each reading is its own photo's,
    the same as when read alone, and the second copy of the models was really used."""
    engine = RapidOcrEngine(RapidOcrSettings(lanes=2, threads=1))
    photos = [as_bytes(draw_receipt(RECEIPT_LINES[i : i + 2], width=420)) for i in (0, 2, 4, 6)]
    alone = [await engine.read(photo) for photo in photos]
    lanes = _lanes(engine.settings)
    together = await asyncio.gather(*(engine.read(photo) for photo in photos))
    assert [[line.text for line in r] for r in together] == [
        [line.text for line in r] for r in alone
    ]
    assert len({tuple(line.text for line in r) for r in alone}) == 4  # four different photos
    assert lanes.count == 2
    assert lanes._free.qsize() == 2  # both copies built and handed back after use


async def test_warm_up_loads_the_models_before_the_first_photo() -> None:
    engine = RapidOcrEngine(RapidOcrSettings(lanes=1, threads=1, rec_min_width=152))
    lanes = _lanes(engine.settings)
    assert lanes._first is None
    await asyncio.to_thread(engine.warm_up)
    assert lanes._first is not None and lanes._free.qsize() == 1
    lines = await engine.read(as_bytes(draw_receipt(RECEIPT_LINES[4:6], width=400)))
    assert any("42.50" in line.text for line in lines)


def test_readout_warm_up_reaches_the_default_engine() -> None:
    """The receipts queue's warm-up loads the rapidocr models of the installed plugin."""
    pm = build_plugin_manager(load_entrypoints=True)
    readout.warm_up(pm)
    from loyalchat.extensions.ocr import get_ocr_engines

    engine = get_ocr_engines(pm)["rapidocr"]
    assert _lanes(engine.settings)._first is not None


def test_a_booting_worker_runs_the_warm_ups_of_its_queues(stub_broker: StubBroker) -> None:
    ran: list[str] = []
    done = threading.Event()

    def ours() -> None:
        ran.append("receipts")
        done.set()

    def theirs() -> None:
        ran.append("elsewhere")

    def broken() -> None:
        raise RuntimeError("no models here")

    saved = registry.warm_ups()
    registry.register_warm_up("receipts", broken)
    registry.register_warm_up("receipts", ours)
    registry.register_warm_up("a-queue-nobody-reads", theirs)
    worker = EmbeddedWorker(stub_broker, threads=1, queues={"receipts"})
    try:
        with use_plugin_manager(build_plugin_manager()):
            worker.start()
        assert done.wait(10), "the warm-up of a consumed queue did not run"
        assert ran == ["receipts"]  # not the other queue's; the broken one only logged
        assert worker.running
    finally:
        worker.stop()
        registry._warm_ups[:] = saved


def test_idle_workers_poll_every_tenth_of_a_second(stub_broker: StubBroker) -> None:
    worker = EmbeddedWorker(stub_broker, threads=1, worker_timeout_ms=1000)
    try:
        worker.start()
        assert worker.worker is not None
        assert worker.worker.worker_timeout == 100
        consumers = list(worker.worker.consumers.values())
        assert consumers and all(c.consumer.timeout == 100 for c in consumers)
    finally:
        worker.stop()
