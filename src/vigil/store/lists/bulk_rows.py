"""Many rows into one table as the database driver takes them, for the list import's bulk writer.

A Core ``session.execute(table.insert(), rows)`` runs every value of every row through its
column type's bind processor (enum checks, UTC datetimes, JSON encoding) one call at a time;
for an import most of those values are the same in every row (the list, the job, the time,
the status) or take a handful of values (the signal type, the exchange's tags). Here each
distinct value of a column is processed once, with the very processors SQLAlchemy would use
for this dialect, and the statement SQLAlchemy compiles for the table goes to the driver's
``executemany`` (SQLite's is a loop in C; psycopg's pipelines the rows). The same statement
and the same stored values, with less Python per row. Multi-row VALUES on PostgreSQL was
tried and measured slower than psycopg's pipelined executemany (issue 16).

Only for plain INSERTs: nothing is returned, and no ORM flush hook runs (as with any Core
insert), so callers stamp ``change_seq`` themselves as the change feed asks.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table

_PYFORMAT = re.compile(r"%\((\w+)\)s")


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, column names of ``table``)."""
    if not rows:
        return
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = table.insert().compile(dialect=dialect, column_keys=keys, for_executemany=True)
    statement = compiled.string
    names = list(compiled.positiontup or ()) if compiled.positional else _named(statement)
    missing = set(names) - set(keys)
    if missing:
        raise ValueError(f"rows for {table.name} lack {sorted(missing)}")
    columns = [_converted(table, name, dialect, [row[name] for row in rows]) for name in names]
    values = list(zip(*columns, strict=True))
    if compiled.positional:
        connection.exec_driver_sql(statement, values)
        return
    connection.exec_driver_sql(statement, [dict(zip(names, row, strict=True)) for row in values])


def _named(statement: str) -> list[str]:
    """The parameters of a pyformat statement (psycopg's), in order."""
    names = _PYFORMAT.findall(statement)
    if not names:
        raise ValueError("only qmark (SQLite) and pyformat (psycopg) parameters are supported")
    return names


def _converted(table: Table, name: str, dialect: Dialect, values: list[Any]) -> list[Any]:
    """One column's values through its bind processor for this dialect, each distinct value
    once (a list, such as tags, is told apart by its items)."""
    process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return values
    first = values[0]
    if all(value == first for value in values):
        return [process(first)] * len(values)
    done: dict[Hashable, Any] = {}
    converted = []
    for value in values:
        key = tuple(value) if isinstance(value, list) else value
        try:
            result = done[key]
        except KeyError:
            result = done[key] = process(value)
        except TypeError:  # unhashable: processed on its own
            result = process(value)
        converted.append(result)
    return converted
