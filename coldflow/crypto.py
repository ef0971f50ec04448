"""Encryption at rest for mailbox passwords and other secrets the engine must read back.

Fernet (AES-128-CBC + HMAC) from ``cryptography``: authenticated, versioned, and standard.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from coldflow.errors import CodedError


class SecretUnreadable(CodedError):
    """A stored secret cannot be decrypted: the secret key changed or the value is corrupt."""

    code = "SECRET_UNREADABLE"
    status = 500


def generate_key() -> str:
    """A fresh key for ``COLDFLOW_SECRET_KEY``."""
    return Fernet.generate_key().decode()


class SecretBox:
    """Encrypts and decrypts text with the installation's secret key."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretUnreadable("A stored secret could not be decrypted") from exc
