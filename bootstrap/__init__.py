"""Composition root: builds settings, engine, unit of work and Celery app once per process."""

from __future__ import annotations

from functools import cache
from typing import Any

from celery import Celery
from sqlalchemy import Engine

from adapters.unit_of_work import SqlUnitOfWork
from config.celery import make_celery
from config.database import make_engine
from config.logging import configure_logging
from config.settings import Settings
from services.deps import Deps, build_deps


@cache
def settings() -> Settings:
    current = Settings.from_env()
    configure_logging(current)
    return current


@cache
def engine() -> Engine:
    return make_engine(settings())


def _send(name: str, args: list[Any]) -> None:
    celery().send_task(name, args=args, retry=False)


def unit_of_work() -> SqlUnitOfWork:
    return SqlUnitOfWork(engine(), enqueue=_send)


@cache
def deps() -> Deps:
    return build_deps(settings())


@cache
def celery() -> Celery:
    return make_celery(settings())
