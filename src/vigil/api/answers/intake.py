"""Answers of the intake's JSON routes: an agency's requests as the reporting company that
sent the report sees them (not which agency asked). These routes sit beside the
CyberTipline-compatible endpoints, outside the console's /openapi.json (a company signs in
with HTTP basic, not as a console user); the XML endpoints have no models at all."""

from __future__ import annotations

from vigil.api.answers import Answer, Time


class CompanyInfoRequest(Answer):
    id: int
    report_id: int
    question: str
    state: str
    requested_at: Time
    due_at: Time
    answer: str | None
    answered_at: Time | None


class CompanyInfoRequests(Answer):
    requests: list[CompanyInfoRequest]
