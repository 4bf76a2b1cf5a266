"""What the API accepts and returns."""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import Path
from pydantic import AfterValidator, BaseModel, EmailStr, Field

# SQLite integers have 64 bits: a larger id could not even be looked up
SubscriberId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class SubscriberIn(BaseModel):
    # lower case: one subscriber per address, whatever its case (Ü@… = ü@…)
    email: Annotated[EmailStr, AfterValidator(str.lower)]
    name: str = Field(min_length=1, max_length=100)


class Subscriber(SubscriberIn):
    id: int
    created_at: datetime


class Email(BaseModel):
    """One email in the outbox, with its delivery status."""

    id: int
    recipient: str
    subject: str
    body: str
    status: Literal["sending", "sent", "failed"]
    error: str | None = None
    created_at: datetime


class AuditEntry(BaseModel):
    """One line of the audit log: what happened, and to whom or what."""

    id: int
    event: str
    detail: str
    created_at: datetime


class Job(BaseModel):
    """Work that goes on after the response; follow it at GET /jobs/{id}."""

    id: UUID
    status: Literal["pending", "running", "done", "failed"]
    detail: str | None = None
    created_at: datetime
