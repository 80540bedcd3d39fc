"""WeChat's webhook signatures and safe-mode (安全模式) message encryption, pure functions.

``signature`` is WeChat's SHA-1 over the sorted, concatenated parts: (token, timestamp,
nonce) for ``signature``, plus the ``Encrypt`` text for ``msg_signature``. Safe mode is
AES-256-CBC with the key ``base64(EncodingAESKey + "=")`` and the IV its first 16 bytes;
the plaintext is ``16 random bytes | 4-byte big-endian length | message | appid``, padded
PKCS#7-style to a multiple of 32 bytes (not AES's 16). The appid at the end says which
official account the message is for: :func:`decrypt` refuses any other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["CryptoError", "aes_key", "decrypt", "encrypt", "signature", "signature_matches"]

BLOCK = 32  # WeChat pads to 32 bytes, not to the cipher's 16
_PREFIX = 16  # random bytes before the length
_LENGTH = struct.Struct(">I")


class CryptoError(ValueError):
    """A safe-mode text that cannot be opened: bad key, base64, padding, length or appid."""


def signature(*parts: str) -> str:
    """SHA-1 hex of the parts sorted and joined (WeChat's ``signature``/``msg_signature``)."""
    return hashlib.sha1("".join(sorted(parts)).encode(), usedforsecurity=False).hexdigest()


def signature_matches(given: str, *parts: str) -> bool:
    """Constant-time check of a signature WeChat sent against the one ``parts`` give."""
    expected = signature(*parts).encode()
    return hmac.compare_digest(expected, (given or "").strip().lower().encode("utf-8", "replace"))


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey."""
    text = (encoding_aes_key or "").strip()
    if len(text) != 43:
        raise CryptoError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(text + "=", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("EncodingAESKey is not base64") from exc
    if len(key) != 32:
        raise CryptoError("EncodingAESKey does not give a 32-byte key")
    return key


def _cipher(key: bytes) -> Cipher:
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(
    message: bytes, encoding_aes_key: str, appid: str, *, random_prefix: bytes | None = None
) -> str:
    """The base64 ``Encrypt`` text of ``message`` for ``appid`` (tests inject the prefix)."""
    prefix = os.urandom(_PREFIX) if random_prefix is None else random_prefix
    if len(prefix) != _PREFIX:
        raise CryptoError("the random prefix is 16 bytes")
    plain = prefix + _LENGTH.pack(len(message)) + message + appid.encode()
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = _cipher(aes_key(encoding_aes_key)).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")


def decrypt(encrypted: str, encoding_aes_key: str, appid: str) -> bytes:
    """The message inside a safe-mode ``Encrypt`` text, checked to be for ``appid``."""
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode((encrypted or "").strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("Encrypt is not base64") from exc
    if not data or len(data) % 16:
        raise CryptoError("Encrypt is not whole AES blocks")
    decryptor = _cipher(key).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("bad padding")
    plain = plain[:-pad]
    if len(plain) < _PREFIX + _LENGTH.size:
        raise CryptoError("too short")
    (length,) = _LENGTH.unpack_from(plain, _PREFIX)
    start = _PREFIX + _LENGTH.size
    if length > len(plain) - start:
        raise CryptoError("the length runs past the end")
    message, suffix = plain[start : start + length], plain[start + length :]
    if not appid or not hmac.compare_digest(suffix, appid.encode()):
        raise CryptoError("the message is for another appid")
    return message
