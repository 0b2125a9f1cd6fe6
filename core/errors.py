"""Errors services raise for the user to read (in Chinese).

PermissionDenied (django.core.exceptions) answers "who"; Conflict answers "when": the record
changed since the form was drawn, or the action no longer applies to its state.
"""


class Conflict(Exception):
    """The record moved on since the user looked at it; the message says so in Chinese."""

    default_message = "该记录已被他人修改，请刷新页面后重试。"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
