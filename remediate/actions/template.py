"""template: the rendered file replaces the whole target; mode/owner/group may be set by the step."""

from __future__ import annotations

from remediate.model import RemoteFile, RenderedTemplate

DEFAULT_NEW_FILE_MODE = 0o644


def desired_mode(step: RenderedTemplate, current: RemoteFile | None) -> int:
    if step.mode is not None:
        return step.mode
    return current.mode if current is not None else DEFAULT_NEW_FILE_MODE
