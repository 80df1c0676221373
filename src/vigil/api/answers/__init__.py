"""What the JSON API answers, as Pydantic models: one module per route area, so that
``/openapi.json`` describes every answer and a client can be generated from it.

The models describe answers the routes already build as dicts; they must not change a byte
of them. Hence three rules for every model here:

- ``Answer`` forbids undeclared fields: a key a route adds without declaring it fails its
  tests (a server error) instead of silently vanishing from the answer.
- Times are the strings the routes format (``isoformat()``), not ``datetime``: Pydantic
  would write UTC as ``Z`` where the routes write ``+00:00``.
- A value that may be a whole or a fractional number is a ``Number``: a ``float`` field
  would turn ``3`` into ``3.0``.

A route whose answer leaves out a key (rather than sending null) says
``response_model_exclude_unset=True``: what the route did not set stays out, what it set to
null stays null.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, WithJsonSchema

Number = Annotated[int | float, WithJsonSchema({"type": "number"})]
# ISO 8601 as the route wrote it; no "format": naive times from SQLite carry no offset.
Time = Annotated[str, WithJsonSchema({"type": "string", "description": "ISO 8601 time"})]


class Answer(BaseModel):
    """A JSON answer (or a part of one): every field it may hold is declared."""

    model_config = ConfigDict(extra="forbid")
