"""Reports filed the way a reporting company files them: submit, upload, file details and
finish over HTTP basic auth against the live service (benign corpus or generated pictures)."""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from lxml import etree
from PIL import Image, ImageDraw

from tests.clearinghouse.intake_rows import report_xml
from vigil.clearinghouse.companies import add_company
from vigil.store import Database

COMPANY_PASSWORD = "pswd123-long-enough"
XML = {"Content-Type": "text/xml; charset=utf-8"}


@dataclass(frozen=True)
class Reporter:
    """One reporting company's account on the clearinghouse's intake."""

    base_url: str
    name: str
    username: str

    def file(self, pictures: Sequence[bytes], document: bytes | None = None) -> int:
        """One finished report with ``pictures``; returns its report id."""
        with httpx.Client(
            base_url=self.base_url, auth=(self.username, COMPANY_PASSWORD), timeout=30
        ) as http:
            report_id = _answered(
                http.post("/ispws/submit", headers=XML, content=document or report_xml()),
                "reportId",
            )
            for index, content in enumerate(pictures):
                uploaded = http.post(
                    "/ispws/upload",
                    data={"id": report_id},
                    files={"file": (f"upload-{index}.jpg", content)},
                )
                file_id = _answered(uploaded, "fileId")
                _answered(
                    http.post(
                        "/ispws/fileinfo",
                        headers=XML,
                        content=file_details(report_id, file_id, f"picture-{index}.jpg"),
                    ),
                    "reportId",
                )
            _answered(http.post("/ispws/finish", data={"id": report_id}), "reportId")
        return int(report_id)


def enrol(database: Database, base_url: str, name: str, username: str) -> Reporter:
    with database.transaction(write=True) as session:
        add_company(session, name, username, COMPANY_PASSWORD)
    return Reporter(base_url, name, username)


def file_details(report_id: str, file_id: str, name: str) -> bytes:
    """A <fileDetails> with the original name only: an IP or device here would link every
    report these tests file to every other."""
    return (
        f"<fileDetails><reportId>{report_id}</reportId><fileId>{file_id}</fileId>"
        f"<originalFileName>{name}</originalFileName></fileDetails>"
    ).encode()


def generated_picture(seed: str, size: tuple[int, int] = (480, 360)) -> bytes:
    """A JPEG of random coloured shapes: structured enough for a good PDQ hash, and unlike
    any other seed's picture."""
    chance = random.Random(seed)
    picture = Image.new("RGB", size, tuple(chance.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(picture)
    for _ in range(40):
        x, y = chance.randrange(size[0]), chance.randrange(size[1])
        box = (x, y, x + chance.randrange(20, 160), y + chance.randrange(20, 120))
        colour = tuple(chance.randrange(256) for _ in range(3))
        (draw.ellipse if chance.random() < 0.5 else draw.rectangle)(box, fill=colour)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _answered(answer: httpx.Response, field: str) -> str:
    assert answer.status_code == 200, answer.text
    value = etree.fromstring(answer.content).findtext(field)
    assert value, answer.text
    return value
