"""Many rows into one table as the database driver takes them, for the list import's bulk writer.

A Core ``session.execute(table.insert(), rows)`` runs every value of every row through its
column type's bind processor (enum checks, UTC datetimes, JSON encoding) one call at a time;
for an import most of those values are the same in every row (the list, the job, the time,
the status) or take a handful of values (the signal type, the exchange's tags). Here each
distinct value of a column is processed once, with the very processors SQLAlchemy would use
for this dialect, and the statement SQLAlchemy compiles for the table goes to the driver's
``executemany`` (SQLite's is a loop in C). On PostgreSQL with psycopg the same converted
values go through ``COPY ... FROM STDIN`` instead, in the caller's transaction: psycopg's
pipelined executemany spent most of a fetch's client time preparing and dumping one
statement per row, and the server parsing and executing each (issue 16). The same columns
and the same stored values (tests/store/test_bulk_rows.py compares them with SQLAlchemy's
own insert), with less Python per row; a driver error is raised as SQLAlchemy's. Multi-row
VALUES on PostgreSQL was tried and measured slower than the pipelined executemany.

Only for plain INSERTs: nothing is returned, and no ORM flush hook runs (as with any Core
insert), so callers stamp ``change_seq`` themselves as the change feed asks.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.exc import DBAPIError

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
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy_rows(connection, table, names, values)
        return
    if compiled.positional:
        connection.exec_driver_sql(statement, values)
        return
    connection.exec_driver_sql(statement, [dict(zip(names, row, strict=True)) for row in values])


def _copy_rows(
    connection: Connection, table: Table, names: list[str], values: list[tuple[Any, ...]]
) -> None:
    """The rows through psycopg's COPY on the session's own connection (and transaction)."""
    preparer = connection.dialect.identifier_preparer
    columns = ", ".join(preparer.format_column(table.c[name]) for name in names)
    statement = f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN"
    driver = connection.connection.driver_connection
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in values:
                copy.write_row(row)
    except dbapi_error as exc:
        raise DBAPIError.instance(statement, None, exc, dbapi_error) from exc


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
