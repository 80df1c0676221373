"""The CyberTipline Reporting API's response codes (Appendix D) and the one refusal every
intake operation raises, carrying the code the reporter is answered with."""

from __future__ import annotations

from enum import IntEnum


class ResponseCode(IntEnum):
    SUCCESS = 0
    SERVER_ERROR = 1000
    SAVE_FAILED = 1100
    UPLOAD_FAILED = 1110
    FILE_UPLOAD_FAILED = 1111
    RESOURCE_NOT_FOUND = 1210
    UPDATE_FAILED = 1300
    AUTHENTICATION_REQUIRED = 2000
    NOT_AUTHORIZED = 3000
    NO_SUBMISSIONS = 3100
    NO_UPDATES = 3300
    INVALID_REQUEST = 4000
    VALIDATION_FAILED = 4100
    MALFORMED_XML = 4110
    MALFORMED_FILE = 4200
    REPORT_DOES_NOT_EXIST = 5001
    FILE_DOES_NOT_EXIST = 5002
    REPORT_ALREADY_RETRACTED = 5101
    REPORT_ALREADY_FINISHED = 5102

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    ResponseCode.SUCCESS: "Success",
    ResponseCode.SERVER_ERROR: "Server error",
    ResponseCode.SAVE_FAILED: "Save failed",
    ResponseCode.UPLOAD_FAILED: "Upload failed",
    ResponseCode.FILE_UPLOAD_FAILED: "File upload failed",
    ResponseCode.RESOURCE_NOT_FOUND: "Resource not found",
    ResponseCode.UPDATE_FAILED: "Update failed",
    ResponseCode.AUTHENTICATION_REQUIRED: "Authentication required",
    ResponseCode.NOT_AUTHORIZED: "User is not authorized to perform this action",
    ResponseCode.NO_SUBMISSIONS: "User does not have authorization to make submissions",
    ResponseCode.NO_UPDATES: "User does not have authorization to make updates",
    ResponseCode.INVALID_REQUEST: "Invalid request",
    ResponseCode.VALIDATION_FAILED: "Validation failed",
    ResponseCode.MALFORMED_XML: "Malformed XML submittal",
    ResponseCode.MALFORMED_FILE: "Malformed file submittal",
    ResponseCode.REPORT_DOES_NOT_EXIST: "Report does not exist",
    ResponseCode.FILE_DOES_NOT_EXIST: "File does not exist",
    ResponseCode.REPORT_ALREADY_RETRACTED: "Report already retracted",
    ResponseCode.REPORT_ALREADY_FINISHED: "Report already finished",
}


class IntakeRefused(Exception):
    """A request the intake refuses; ``detail`` (safe to show the reporter) says why."""

    def __init__(
        self, code: ResponseCode, detail: str | None = None, *, report_id: int | None = None
    ) -> None:
        super().__init__(f"{code.value} {code.description}" + (f": {detail}" if detail else ""))
        self.code = code
        self.detail = detail
        self.report_id = report_id

    @property
    def description(self) -> str:
        return self.code.description + (f": {self.detail}" if self.detail else "")
