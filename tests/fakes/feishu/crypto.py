"""Feishu's webhook envelope: AES-256-CBC encryption and the request signature.

Feishu encrypts the event JSON with ``key = sha256(encrypt_key)``, a random 16-byte IV and PKCS#7
padding, and posts ``{"encrypt": base64(iv + ciphertext)}``. When an encrypt key is configured it
also signs the exact body bytes: ``X-Lark-Signature = sha256_hex(timestamp + nonce + encrypt_key +
body)``. The functions here are the sender's half; the SDK's ``AESCipher`` and
``EventDispatcherHandler._verify_sign`` are the receiver's half the tests check against.
"""

from __future__ import annotations

import base64
import hashlib
import os

from Crypto.Cipher import AES
from Crypto.Util.Padding import pad


def encrypt(plaintext: str, encrypt_key: str) -> str:
    """Return ``base64(iv + AES-256-CBC(plaintext))`` exactly as Feishu puts it in ``encrypt``."""
    key = hashlib.sha256(encrypt_key.encode()).digest()
    iv = os.urandom(AES.block_size)
    cipher = AES.new(key, AES.MODE_CBC, iv)
    ciphertext = cipher.encrypt(pad(plaintext.encode(), AES.block_size))
    return base64.b64encode(iv + ciphertext).decode()


def signature(timestamp: str, nonce: str, encrypt_key: str, body: bytes) -> str:
    """The ``X-Lark-Signature`` header value for ``body``."""
    return hashlib.sha256((timestamp + nonce + encrypt_key).encode() + body).hexdigest()
