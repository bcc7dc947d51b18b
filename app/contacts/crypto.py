"""Phone numbers at rest: AES-256-GCM ciphertext plus an HMAC-SHA256 for finding duplicates.

Both keys are derived (HKDF-SHA256) from CONTACT_ENCRYPTION_KEY with different labels, so a leaked
database holds neither a number nor anything a number can be guessed back from: the hash is keyed, and
the 10^10 possible mobile numbers cannot be tried against it without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"  # first byte of every ciphertext: lets a later key rotation tell generations apart
NONCE_BYTES = 12


def _derive(secret: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"surgeline/contacts/" + label).derive(secret)


class PhoneVault:
    """Encrypts, decrypts and hashes E.164 numbers with keys derived from one secret."""

    def __init__(self, secret: str):
        if not secret or len(secret) < 16:
            raise ValueError("CONTACT_ENCRYPTION_KEY is missing or too short")
        raw = secret.encode()
        self._aead = AESGCM(_derive(raw, b"phone-encryption/v1"))
        self._hash_key = _derive(raw, b"phone-hash/v1")

    def digest(self, e164: str) -> bytes:
        """The keyed hash that the unique (campaign_id, phone_hash) constraint de-duplicates on."""
        return hmac.digest(self._hash_key, e164.encode(), hashlib.sha256)

    def encrypt(self, e164: str, *, campaign_id: int) -> bytes:
        """Ciphertext bound to its campaign (copied into another campaign's row, it will not decrypt)."""
        nonce = os.urandom(NONCE_BYTES)
        return VERSION + nonce + self._aead.encrypt(nonce, e164.encode(), _aad(campaign_id))

    def decrypt(self, blob: bytes, *, campaign_id: int) -> str:
        blob = bytes(blob)
        if blob[:1] != VERSION:
            raise ValueError("unknown phone ciphertext version")
        nonce, body = blob[1:1 + NONCE_BYTES], blob[1 + NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, _aad(campaign_id)).decode()
        except InvalidTag:
            raise ValueError("phone ciphertext does not decrypt with this key and campaign") from None


def _aad(campaign_id: int) -> bytes:
    return b"campaign:%d" % campaign_id


@lru_cache(maxsize=4)
def vault_for_secret(secret: str) -> PhoneVault:
    return PhoneVault(secret)


def current_vault() -> PhoneVault:
    """The vault of the running app's CONTACT_ENCRYPTION_KEY (views and jobs; services take it as an argument)."""
    from flask import current_app

    return vault_for_secret(current_app.config["CONTACT_ENCRYPTION_KEY"] or "")
