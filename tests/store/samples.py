"""Synthetic rows for store tests: hashes are counters rendered as hex, never real content."""

from __future__ import annotations

from sqlalchemy.orm import Session

from vigil.store.models import HashList, ListEntry, SignalType


def fake_hex(number: int, length: int = 64) -> str:
    return f"{number:0{length}x}"


def add_list(session: Session, name: str = "test-bank", **fields: object) -> HashList:
    hash_list = HashList(name=name, **fields)
    session.add(hash_list)
    session.flush()
    return hash_list


def add_entry(
    session: Session,
    hash_list: HashList,
    number: int,
    signal_type: SignalType = SignalType.MD5,
    **fields: object,
) -> ListEntry:
    length = 32 if signal_type is SignalType.MD5 else 40 if signal_type is SignalType.SHA1 else 64
    entry = ListEntry(
        hash_list=hash_list, signal_type=signal_type, signal=fake_hex(number, length), **fields
    )
    session.add(entry)
    session.flush()
    return entry
