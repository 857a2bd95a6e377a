"""Secrets at rest: columns of type `SealedText` are encrypted when TEAMBOT_SECRET_KEY is set.

A group robot's webhook (its URL carries the access token) and its signing secret are enough to
post into a team's group, so a copy of the database must not give them away. TEAMBOT_SECRET_KEY
holds one Fernet key (cryptography's: AES-128-CBC with an HMAC-SHA256, a timestamp and a random IV)
or several, separated by commas: the first seals new values, any of them opens stored ones
(MultiFernet). To rotate: put a new key first, run `teambot db rotate-key` (every sealed column of
every row sealed again with the first key, plaintext ones sealed for the first time), then drop
the old key.

Stored form: "fernet:" + token. A value without the prefix is plaintext (written before a key was
set): it reads as it is, so setting a key never breaks existing rows. Without a key, new values
are written as plaintext too; a sealed value then cannot be read (`SealedValueError`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text, select, type_coerce, update
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

ENV = "TEAMBOT_SECRET_KEY"
PREFIX = "fernet:"


class SecretKeyError(ValueError):
    """TEAMBOT_SECRET_KEY is not a list of Fernet keys."""


class SealedValueError(RuntimeError):
    """A sealed value that none of the configured keys opens."""


def _keys(value: str | None) -> list[str]:
    return [k.strip() for k in (value or "").split(",") if k.strip()]


def key_count() -> int:
    return len(_keys(os.environ.get(ENV)))


@lru_cache(maxsize=8)
def keyring(value: str | None) -> MultiFernet | None:
    """The keys in `value` (comma-separated, first one seals); None when there are none."""
    keys = _keys(value)
    if not keys:
        return None
    fernets = []
    for n, key in enumerate(keys, 1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            which = "" if len(keys) == 1 else f" (key {n} of {len(keys)})"
            raise SecretKeyError(f"environment variable {ENV}{which}: not a Fernet key (44 characters of "
                                 f"url-safe base64; make one with `teambot db new-key`)") from None
    return MultiFernet(fernets)


def current() -> MultiFernet | None:
    return keyring(os.environ.get(ENV))


def new_key() -> str:
    return Fernet.generate_key().decode()


def is_sealed(stored: str | None) -> bool:
    return stored is not None and stored.startswith(PREFIX)


def seal(text: str, ring: MultiFernet) -> str:
    return PREFIX + ring.encrypt(text.encode()).decode()


def unseal(stored: str, ring: MultiFernet | None) -> str:
    """The plaintext of a stored value (a plaintext one as it is)."""
    if not is_sealed(stored):
        return stored
    if ring is None:
        raise SealedValueError(f"a stored secret is encrypted but {ENV} is not set")
    try:
        return ring.decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise SealedValueError(f"a stored secret was encrypted with a key that {ENV} does not hold") from None


class SealedText(TypeDecorator):
    """Text, sealed on the way in when a key is set, opened on the way out."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        ring = current()
        return seal(value, ring) if ring is not None else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return unseal(value, current())


@dataclass
class Rotation:
    #: Values that were plaintext and are now sealed.
    sealed: int = 0
    #: Values sealed again with the first key.
    resealed: int = 0
    #: (table, primary key, column) of values no key opens; left as they were.
    unopened: list[tuple[str, tuple, str]] = field(default_factory=list)


def sealed_columns(metadata) -> list[tuple]:
    """(table, [sealed columns]) for every table with a SealedText column."""
    out = []
    for table in metadata.sorted_tables:
        cols = [c for c in table.columns if isinstance(c.type, SealedText)]
        if cols:
            out.append((table, cols))
    return out


def _stored(conn, metadata):
    """(table, primary-key columns, key, {column name: value as stored}) per row with a sealed column."""
    for table, cols in sealed_columns(metadata):
        pk = list(table.primary_key.columns)
        raw = [type_coerce(c, Text).label(c.name) for c in cols]
        for row in conn.execute(select(*pk, *raw)).mappings().all():
            yield table, pk, tuple(row[c.name] for c in pk), {c.name: row[c.name] for c in cols}


def rotate(engine: Engine, metadata, ring: MultiFernet) -> Rotation:
    """Seal every SealedText value with ring's first key, in one transaction."""
    report = Rotation()
    with engine.begin() as conn:
        for table, pk, key, stored in list(_stored(conn, metadata)):
            values = {}
            for name, value in stored.items():
                if value is None:
                    continue
                if not is_sealed(value):
                    values[name] = seal(value, ring)
                    report.sealed += 1
                    continue
                try:
                    values[name] = PREFIX + ring.rotate(value[len(PREFIX):].encode()).decode()
                    report.resealed += 1
                except InvalidToken:
                    report.unopened.append((table.name, key, name))
            if values:
                # type_coerce to Text: the values are sealed already and must not be sealed twice.
                conn.execute(update(table).where(*(c == v for c, v in zip(pk, key)))
                             .values({table.c[name]: type_coerce(v, Text) for name, v in values.items()}))
    return report


def unopenable(engine: Engine, metadata, ring: MultiFernet | None) -> list[tuple[str, tuple, str]]:
    """(table, primary key, column) of sealed values that `ring` cannot open."""
    out = []
    with engine.connect() as conn:
        for table, _pk, key, stored in _stored(conn, metadata):
            for name, value in stored.items():
                try:
                    unseal(value, ring) if value is not None else None
                except SealedValueError:
                    out.append((table.name, key, name))
    return out
