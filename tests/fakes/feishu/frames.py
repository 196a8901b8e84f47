"""The long-connection wire format: protobuf ``pbbp2.Frame`` messages from the SDK's own ``pb``.

A frame has ``method`` 0 (control: ping/pong) or 1 (data: events), string ``headers`` (``type``,
``message_id``, ``trace_id``, ``sum``/``seq`` for split payloads, ``biz_rt`` on acks) and a
``payload``. The client answers a data frame by sending the same frame back with ``payload`` set
to ``{"code": 200, "data": base64(handler result)}``.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from lark_oapi.ws.pb.pbbp2_pb2 import Frame

METHOD_CONTROL = 0
METHOD_DATA = 1


@dataclass(frozen=True)
class ParsedFrame:
    method: int
    service: int
    headers: dict[str, str]
    payload: bytes


def parse(raw: bytes) -> ParsedFrame:
    frame = Frame()
    frame.ParseFromString(raw)
    return ParsedFrame(
        method=int(frame.method),
        service=int(frame.service),
        headers={h.key: h.value for h in frame.headers},
        payload=bytes(frame.payload),
    )


def build(
    *, method: int, service: int, headers: dict[str, str], payload: bytes, seq_id: int = 0
) -> bytes:
    frame = Frame()
    frame.SeqID = seq_id
    frame.LogID = secrets.randbits(63)
    frame.service = service
    frame.method = method
    for key, value in headers.items():
        header = frame.headers.add()
        header.key = key
        header.value = value
    frame.payload = payload
    data = frame.SerializeToString()
    assert isinstance(data, bytes)
    return data


def decode_ack(payload: bytes) -> tuple[int, Any]:
    """``(code, decoded data)`` from an ack payload; data is ``None`` when the handler returned
    nothing. The SDK base64-encodes the handler's JSON result into ``data``."""
    response = json.loads(payload)
    data = response.get("data")
    decoded = json.loads(base64.b64decode(data)) if data else None
    return int(response["code"]), decoded
