"""The Redis transport publishes on one client per channel, and messages still arrive."""

from __future__ import annotations

import redis

from config.celery import make_celery
from config.redis_broker import Channel
from config.settings import Settings


def test_many_publishes_share_one_client_and_all_arrive(pg_settings: Settings, monkeypatch) -> None:
    created = []
    original = Channel._create_client

    def counting(self, asynchronous=False):
        client = original(self, asynchronous)
        created.append(client)
        return client

    monkeypatch.setattr(Channel, "_create_client", counting)
    app = make_celery(pg_settings)
    queue = app.conf.task_default_queue
    try:
        with app.producer_or_acquire() as producer:
            assert isinstance(producer.channel, Channel)

            def publish(first: int) -> None:
                for i in range(first, first + 20):
                    app.send_task(
                        "seatflow.process_stripe_events", args=[[f"evt_{i}"]], producer=producer
                    )

            publish(0)
            after_first = len(created)  # the publishing client, and the consumer's
            publish(20)
        assert redis.Redis.from_url(pg_settings.broker_url).llen(queue) == 40
        assert after_first <= 2 and len(created) == after_first
    finally:
        redis.Redis.from_url(pg_settings.broker_url).delete(queue)
