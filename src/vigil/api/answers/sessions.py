"""Answers of signing in and out, the password change and the second factor."""

from __future__ import annotations

from typing import Literal

from vigil.api.answers import Answer


class SignedIn(Answer):
    """The session cookie comes with it; the CSRF token is to be sent in ``csrf_header``."""

    username: str
    roles: list[str]
    must_change_password: bool
    csrf_token: str
    csrf_header: str


class Caller(Answer):
    """Who the credentials belong to (``kind`` "user" or "api_key") and what they may do."""

    kind: Literal["user", "api_key"]
    name: str
    permissions: list[str]


class Done(Answer):
    """A change that has nothing to return but what was done, in words."""

    status: str


class TotpEnrolment(Answer):
    """The secret to load into an authenticator app, as an otpauth:// URI."""

    provisioning_uri: str
