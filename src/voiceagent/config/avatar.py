"""The talking avatar: :class:`AvatarOptions`, sent as ``session.update``'s ``avatar``.

Voice Live streams the avatar's video and voice over WebRTC; the app sends these options, adds
``"avatar"`` to the modalities and then exchanges SDP with ``session.avatar.connect``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, StrictBool, StrictInt, field_validator, model_validator

from ..errors import ConfigError
from ._base import ConfigModel, Name

__all__ = [
    "AvatarBackground",
    "AvatarCrop",
    "AvatarOptions",
    "AvatarResolution",
    "AvatarVideo",
    "parse_avatar",
]

_HEX_COLOR = re.compile(r"#[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?")


class AvatarResolution(ConfigModel):
    """Size of the avatar's video in pixels (both greater than 0)."""

    width: StrictInt = Field(gt=0, le=4096)
    height: StrictInt = Field(gt=0, le=4096)


class AvatarCrop(ConfigModel):
    """A crop rectangle: ``[x, y]`` corners, top-left above and left of bottom-right."""

    top_left: tuple[StrictInt, StrictInt]
    bottom_right: tuple[StrictInt, StrictInt]

    @model_validator(mode="after")
    def _ordered(self) -> AvatarCrop:
        if min(*self.top_left, *self.bottom_right) < 0:
            raise ValueError("crop corners must be non-negative [x, y] pixel coordinates")
        if not (
            self.top_left[0] < self.bottom_right[0] and self.top_left[1] < self.bottom_right[1]
        ):
            raise ValueError(
                f"crop top_left {list(self.top_left)} must be above and left of bottom_right "
                f"{list(self.bottom_right)}"
            )
        return self


class AvatarBackground(ConfigModel):
    """The video's background: a colour (``#RRGGBB`` or ``#RRGGBBAA``) or an image URL, not both."""

    color: str | None = None
    image_url: Name | None = None

    @field_validator("color")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not _HEX_COLOR.fullmatch(value):
            raise ValueError(f"must be a hex colour such as '#00FF00FF' (got {value!r})")
        return value

    @model_validator(mode="after")
    def _one(self) -> AvatarBackground:
        if (self.color is None) == (self.image_url is None):
            raise ValueError("background takes either color or image_url (exactly one)")
        return self


class AvatarVideo(ConfigModel):
    """Video stream settings of the avatar.

    Attributes:
        bitrate: Bits per second, e.g. ``2000000``.
        codec: ``h264`` (the only codec the service documents).
        crop: A crop rectangle.
        resolution: Width and height in pixels.
        background: A colour or an image.
    """

    bitrate: StrictInt | None = Field(default=None, ge=100_000, le=10_000_000)
    codec: Literal["h264"] | None = None
    crop: AvatarCrop | None = None
    resolution: AvatarResolution | None = None
    background: AvatarBackground | None = None


class AvatarOptions(ConfigModel):
    """A Voice Live avatar (video avatar by default, or a photo avatar).

    Attributes:
        character: The avatar character, e.g. ``"lisa"``.
        style: The character's style, e.g. ``"casual-sitting"`` (video avatars).
        customized: True for a custom avatar trained for this resource.
        type: ``video-avatar`` (default) or ``photo-avatar``.
        model: The photo avatar's model, e.g. ``"vasa-1"`` (photo avatars only, required there).
        video: Video settings.
    """

    character: Name
    style: Name | None = None
    customized: StrictBool = False
    type: Literal["video-avatar", "photo-avatar"] | None = None
    model: Name | None = None
    video: AvatarVideo | None = None

    @model_validator(mode="after")
    def _photo_needs_model(self) -> AvatarOptions:
        if self.type == "photo-avatar" and self.model is None:
            raise ValueError("a photo avatar needs model, e.g. model='vasa-1'")
        if self.model is not None and self.type != "photo-avatar":
            raise ValueError("model applies to photo avatars only; set type='photo-avatar'")
        return self

    def wire(self) -> dict[str, Any]:
        """The ``avatar`` object of ``session.update`` (unset fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


def parse_avatar(value: str) -> AvatarOptions:
    """``CHARACTER[:STYLE]`` (the command line's ``--avatar``) as :class:`AvatarOptions`.

    Args:
        value: E.g. ``"lisa:casual-sitting"`` or ``"lisa"``.

    Returns:
        The options.

    Raises:
        ConfigError: The value is empty or has an empty part.
    """
    character, sep, style = value.partition(":")
    if not character.strip() or (sep and not style.strip()):
        raise ConfigError(
            f"--avatar takes CHARACTER or CHARACTER:STYLE, e.g. lisa:casual-sitting (got {value!r})"
        )
    return AvatarOptions(character=character.strip(), style=style.strip() or None)
