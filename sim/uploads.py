"""The upload service: signed upload tokens, presigned PUT URLs and the CDN serving the files."""

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sim.errors import ApiError

APP_ID = "webAgent"
APP_KEY = "32jdskjdk320eew"
TOKEN_PARAMS = (
    "appUid",
    "appId",
    "appKey",
    "cmimToken",
    "sign",
    "timestamp",
    "nonce",
    "fService",
    "fType",
    "fSuffix",
    "fContentType",
)
_F_SERVICE = "privite"  # sic, as the real frontend spells it
_F_TYPES = frozenset({"picture", "video", "audio"})
_URL_LIFETIME = 7 * 24 * 3600  # the real presigned URLs last about a week
_TIMESTAMP_WINDOW = 15 * 60  # a sign made with a stale (or millisecond) timestamp is refused


def expected_sign(timestamp: str, nonce: str) -> str:
    raw = f"{APP_ID}|{APP_KEY}|{timestamp}|{nonce}"
    return hashlib.sha1(raw.encode()).hexdigest().upper()  # noqa: S324 - the protocol's choice


@dataclass(frozen=True)
class StoredFile:
    content_type: str
    data: bytes


@dataclass(frozen=True)
class _Slot:
    content_type: str
    expires: int


class UploadStore:
    """Upload tokens issued, and the files PUT with them, keyed by object key."""

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(16)
        self._slots: dict[str, _Slot] = {}
        self.files: dict[str, StoredFile] = {}

    def issue_token(
        self,
        query: Mapping[str, str],
        now: float,
        base_url: str,
        accepts_key: Callable[[str], bool],
    ) -> dict[str, Any]:
        """Check a ``getuploadtoken`` query and answer ``{ful, fdl, ...}`` for a new object."""
        missing = [name for name in TOKEN_PARAMS if not query.get(name)]
        if missing:
            raise ApiError(400, f"missing parameters: {', '.join(missing)}")
        if query["appId"] != APP_ID or query["appKey"] != APP_KEY:
            raise ApiError(401, "invalid app credentials")
        timestamp = query["timestamp"]
        if not timestamp.isdigit() or abs(int(timestamp) - now) > _TIMESTAMP_WINDOW:
            raise ApiError(401, "timestamp out of range")
        if not hmac.compare_digest(query["sign"], expected_sign(timestamp, query["nonce"])):
            raise ApiError(401, "invalid sign")
        if query["appUid"] != query["cmimToken"] or not accepts_key(query["appUid"]):
            raise ApiError(401, "unauthorized")
        if query["fService"] != _F_SERVICE or query["fType"] not in _F_TYPES:
            raise ApiError(400, "invalid fService or fType")
        suffix = query["fSuffix"]
        if not suffix.isalnum():
            raise ApiError(400, "invalid fSuffix")

        # The real path embeds the user id; a hash keeps the API key itself out of URLs.
        uid = hashlib.sha256(query["appUid"].encode()).hexdigest()[:8]
        day = time.strftime("%Y/%m/%d", time.gmtime(now))
        key = f"{APP_ID}/{_F_SERVICE}/{day}/{int(now * 1000)}_{uid}_{uuid.uuid4().hex}.{suffix}"
        expires = int(now) + _URL_LIFETIME
        self._slots[key] = _Slot(query["fContentType"], expires)
        signed = urlencode(
            {"Expires": expires, "OSSAccessKeyId": "sim", "Signature": self._sign(key, expires)}
        )
        return {
            "ful": f"{base_url}/oss/{key}?{signed}",
            "fdl": f"{base_url}/cdn/{key}",
            "ful_expire": expires,
            "fdl_expire": expires,
            "fdl_key": key,
        }

    def accept_put(
        self, key: str, query: Mapping[str, str], content_type: str, data: bytes, now: float
    ) -> None:
        """Store a PUT body if its URL is a valid, unexpired presigned one for this type."""
        slot = self._slots.get(key)
        if slot is None:
            raise ApiError(403, "no upload token for this object")
        expires = query.get("Expires", "")
        if expires != str(slot.expires) or slot.expires < now:
            raise ApiError(403, "request has expired")
        if not hmac.compare_digest(query.get("Signature", ""), self._sign(key, slot.expires)):
            raise ApiError(403, "signature does not match")
        if content_type != slot.content_type:
            raise ApiError(403, "Content-Type differs from the signed one")
        self.files[key] = StoredFile(content_type, data)

    def _sign(self, key: str, expires: int) -> str:
        message = f"PUT\n{expires}\n/{key}".encode()
        return base64.b64encode(hmac.new(self._secret, message, hashlib.sha1).digest()).decode()
