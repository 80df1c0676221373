"""Who is reporting: the company's details from configuration, as the report's <reporter>."""

from __future__ import annotations

from dataclasses import dataclass

from vigil.reporting.cybertipline.errors import ReportRefused
from vigil.reporting.cybertipline.model import Email, Person, Phone, Reporter

MAX_NAME = 100  # the API's limit for first and last names
MAX_EMAIL = 255
MAX_TEXT = 10_000


@dataclass(frozen=True, slots=True)
class ReporterDetails:
    """The reporting company and the person law enforcement should write to."""

    company_name: str
    contact_name: str
    contact_email: str  # the API requires the reporting person's email
    contact_phone: str | None = None
    platform: str | None = None  # the product where the content was found
    company_template: str | None = None  # standing text: how to serve legal process, ...
    terms_of_service: str | None = None
    legal_url: str | None = None

    def __post_init__(self) -> None:
        for name in ("company_name", "contact_name", "contact_email"):
            _text(name, getattr(self, name), MAX_EMAIL)
        local, at, domain = self.contact_email.partition("@")
        if not at or not local or "." not in domain or len(local) > 64:
            raise ReportRefused("reporter: contact_email must be an email address")
        for name in ("contact_phone", "platform", "legal_url"):
            if getattr(self, name) is not None:
                _text(name, getattr(self, name), MAX_EMAIL)
        for name in ("company_template", "terms_of_service"):
            if getattr(self, name) is not None:
                _text(name, getattr(self, name), MAX_TEXT)

    def to_reporter(self) -> Reporter:
        first, _, last = self.contact_name.strip().partition(" ")
        person = Person(
            first_name=first[:MAX_NAME],
            last_name=last.strip()[:MAX_NAME] or None,
            phone=(Phone(number=self.contact_phone),) if self.contact_phone else (),
            email=(Email(address=self.contact_email, type="Business"),),
        )
        template = self.company_template or f"Reported by {self.company_name}."
        return Reporter(
            reporting_person=person,
            company_template=template,
            terms_of_service=self.terms_of_service,
            legal_url=self.legal_url,
        )


def _text(name: str, value: object, limit: int) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ReportRefused(f"reporter: {name} must be text of 1 to {limit} characters")
