"""SQL that SQLite and PostgreSQL spell differently: an INSERT that skips duplicates, a
counter taken one further, and two expressions the attendance reports need. Those work
on the stored UTC values (text on SQLite, timestamptz on PostgreSQL), so the database
does the arithmetic and the grouping."""

from __future__ import annotations

import functools
from datetime import date

from sqlalchemy import Date, Insert, Integer, Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import db


class seconds_between(FunctionElement):  # noqa: N801  (reads as a SQL function)
    """Whole seconds from the second argument to the first, never negative."""

    type = Integer()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw):
    end, start = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"MAX(0, CAST(ROUND((julianday({end}) - julianday({start})) * 86400) AS INTEGER))"


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element, compiler, **kw):
    end, start = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"GREATEST(0, CAST(ROUND(EXTRACT(EPOCH FROM ({end}) - ({start}))) AS INTEGER))"


class week_start(FunctionElement):  # noqa: N801
    """The Monday (UTC) of the week a moment falls in."""

    type = Date()
    inherit_cache = True
    name = "week_start"


@compiles(week_start, "sqlite")
def _week_start_sqlite(element, compiler, **kw):
    (moment,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"date({moment}, 'weekday 0', '-6 days')"


@compiles(week_start, "postgresql")
def _week_start_postgresql(element, compiler, **kw):
    (moment,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(date_trunc('week', ({moment}) AT TIME ZONE 'UTC') AS DATE)"


def next_in_sequence(table: Table, key: str, counter: str, key_value: int) -> int:
    """The counter row of `key_value` one further (1 for a new row), in one upsert: its
    row stays locked to this transaction until it ends (the insert racing for a new key
    waits for it too), so numbers follow each other with no gap and no number twice."""
    spelling = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    column = table.c[counter]
    return db.session.execute(
        spelling.insert(table)
        .values({key: key_value, counter: 1})
        .on_conflict_do_update(index_elements=[key], set_={counter: column + 1})
        .returning(column)
    ).scalar_one()


def as_date(value: date | str) -> date:
    """SQLite hands dates computed in SQL back as text."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def insert_ignoring_duplicates(
    table: Table, unique_columns: tuple[str, ...], columns: tuple[str, ...], rows: Select
) -> Insert:
    """INSERT INTO table (columns) SELECT rows, writing nothing where a row with the same
    unique columns exists (ON CONFLICT DO NOTHING in both spellings). It returns the
    primary key of each row it wrote (psycopg reports no rowcount for it). Built once
    per dialect and arguments (a hot path): pass module-level statements and execute
    it with parameters."""
    return _insert_ignoring(db.engine.dialect.name, table, unique_columns, columns, rows)


@functools.cache
def _insert_ignoring(
    dialect: str,
    table: Table,
    unique_columns: tuple[str, ...],
    columns: tuple[str, ...],
    rows: Select,
) -> Insert:
    spelling = postgresql if dialect == "postgresql" else sqlite
    # SQLite reads ON CONFLICT after a SELECT only when the SELECT has a WHERE.
    assert rows.whereclause is not None, "INSERT ... SELECT ... ON CONFLICT needs a WHERE"
    return (
        spelling.insert(table)
        .from_select(list(columns), rows)
        .on_conflict_do_nothing(index_elements=list(unique_columns))
        .returning(*table.primary_key.columns)
    )
