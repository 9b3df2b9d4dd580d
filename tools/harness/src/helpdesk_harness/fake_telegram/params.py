"""Bot API request parameters: decoding the three encodings and reading typed values.

aiogram posts multipart or urlencoded forms in which every non-string value is JSON text
(`"123"`, `"true"`, `"{...}"`); other clients post JSON. Both end up as the same decoded dict.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from helpdesk_harness.fake_telegram.state import ApiError, bad_request

# Free-text fields stay strings even when they happen to look like JSON ("123", "true").
TEXT_FIELDS = frozenset(
    {
        "text", "caption", "callback_query_id", "file_id", "photo", "document", "sticker",
        "url", "description", "short_description", "name", "inline_message_id", "emoji",
        "parse_mode", "action", "secret_token", "language_code", "query",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str | None
    data: bytes


def decode_value(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name in TEXT_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    values: dict[str, Any] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if request.method == "POST" and request.body_exists:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise bad_request("request body must be a JSON object")
            values.update(body)
        else:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    uploads[name] = Upload(value.filename, value.content_type, value.file.read())
                elif isinstance(value, str):
                    values[name] = value
                else:
                    values[name] = bytes(value).decode("utf-8")
    return {name: decode_value(name, value) for name, value in values.items()}, uploads


class Params:
    """Decoded parameters of one Bot API call, with the uploads its `attach://` values name."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    def for_log(self) -> dict[str, Any]:
        logged = dict(self.values)
        for name, upload in self.uploads.items():
            logged[name] = {"upload": upload.filename, "size": len(upload.data)}
        return logged

    def has(self, name: str) -> bool:
        return self.values.get(name) is not None

    def get_str(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def require_str(self, name: str) -> str:
        value = self.get_str(name)
        if value is None:
            raise bad_request(f"parameter {name} is required")
        return value

    def get_int(self, name: str) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"parameter {name} must be an integer") from None

    def require_int(self, name: str) -> int:
        value = self.get_int(name)
        if value is None:
            raise bad_request(f"parameter {name} is required")
        return value

    def get_bool(self, name: str) -> bool:
        value = self.values.get(name)
        return value is True or (isinstance(value, str) and value.lower() == "true")

    def get_dict(self, name: str) -> dict[str, Any] | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            value = decode_value("", value)
        if not isinstance(value, dict):
            raise bad_request(f"can't parse {name} JSON object")
        return value

    def get_list(self, name: str) -> list[Any] | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            value = decode_value("", value)
        if not isinstance(value, list):
            raise bad_request(f"can't parse {name} JSON array")
        return value

    def chat_id(self) -> int | str:
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        if isinstance(value, int):
            return value
        text = str(value)
        return int(text) if text.lstrip("-").isdigit() else text

    def input_file(self, value: Any) -> Upload | str:
        """An InputFile value: an upload (direct or `attach://name`) or a file_id/URL string."""
        if isinstance(value, str) and value.startswith("attach://"):
            upload = self.uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request(f"file {value} not found in the request")
            return upload
        if not isinstance(value, str) or not value:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return value

    def require_file(self, name: str) -> Upload | str:
        if name in self.uploads:
            return self.uploads[name]
        if name not in self.values:
            raise bad_request(f"there is no {name} in the request")
        return self.input_file(self.values[name])


def api_error_for_missing_method() -> ApiError:
    return ApiError(404, "Not Found: method not found")
