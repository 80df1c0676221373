"""The VICS 2.0 document an agency exports a referral as (docs/vics.md lists every field).

Field names are the format's own. Optional fields are absent, not null, when unknown: the
route answers with ``response_model_exclude_unset=True``."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from vigil.api.answers import Answer


class VicsHash(Answer):
    HashName: str
    HashValue: str


class VicsMediaFile(Answer):
    FileName: str
    FileSize: int
    OriginalFileName: str | None = None
    FilePath: str | None = None
    Created: str | None = None


class VicsMedia(Answer):
    MediaID: int
    Category: int | None = Field(description="1 sexual abuse material, 3 drawn or animated")
    MD5: str
    SHA1: str
    MediaSize: int
    DateUpdated: str
    IsPrecategorized: bool
    IsDistributed: bool
    Series: str
    VictimIdentified: bool
    OffenderIdentified: bool
    Tags: str
    Comments: str
    AlternativeHashes: list[VicsHash]
    MediaFiles: list[VicsMediaFile]
    Name: str | None = None
    RelativeFilePath: str | None = None


class VicsCase(Answer):
    CaseID: str
    CaseNumber: str
    SourceApplicationName: str
    SourceApplicationVersion: str
    Media: list[VicsMedia]


class VicsDocument(Answer):
    """An OData document holding one case: the referred report."""

    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)

    odata_context: str = Field(alias="@odata.context")
    value: list[VicsCase]
