"""Small shapes shared by several resources' request and response models."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, EmailStr


def _lower(value: str) -> str:
    return value.strip().lower()


Email = Annotated[EmailStr, AfterValidator(_lower)]
"""An address as coldflow stores it: validated, trimmed, lower-cased."""
