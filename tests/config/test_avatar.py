"""Avatar options: validation, the ``avatar`` object sent in ``session.update``, ``--avatar``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from voiceagent.config import AvatarOptions, SessionOptions, parse_avatar
from voiceagent.errors import ConfigError
from voiceagent.voicelive.requests import build_request_session


def sent(options: SessionOptions, *, agent_mode: bool = False) -> dict[str, Any]:
    """The ``session`` body as it goes over the wire (JSON round trip)."""
    session = build_request_session(options, agent_mode=agent_mode)
    result: dict[str, Any] = json.loads(json.dumps(session.as_dict()))
    return result


def test_avatar_is_sent_with_avatar_added_to_the_modalities() -> None:
    options = SessionOptions(
        avatar={
            "character": "lisa",
            "style": "casual-sitting",
            "video": {
                "bitrate": 2_000_000,
                "codec": "h264",
                "resolution": {"width": 1920, "height": 1080},
                "crop": {"top_left": [560, 0], "bottom_right": [1360, 1080]},
                "background": {"color": "#00FF00FF"},
            },
        }
    )
    for agent_mode in (False, True):
        body = sent(options, agent_mode=agent_mode)
        assert body["avatar"] == {
            "character": "lisa",
            "style": "casual-sitting",
            "customized": False,
            "video": {
                "bitrate": 2_000_000,
                "codec": "h264",
                "resolution": {"width": 1920, "height": 1080},
                "crop": {"top_left": [560, 0], "bottom_right": [1360, 1080]},
                "background": {"color": "#00FF00FF"},
            },
        }
        assert body["modalities"] == ["text", "audio", "avatar"]


def test_explicit_modalities_keep_their_order_and_avatar_is_not_doubled() -> None:
    avatar = AvatarOptions(character="lisa")
    assert sent(SessionOptions(avatar=avatar, modalities=("audio", "text")))["modalities"] == [
        "audio",
        "text",
        "avatar",
    ]
    both = SessionOptions(avatar=avatar, modalities=("text", "audio", "avatar"))
    assert sent(both)["modalities"] == ["text", "audio", "avatar"]


def test_no_avatar_sends_no_avatar() -> None:
    body = sent(SessionOptions())
    assert "avatar" not in body and "modalities" not in body


def test_photo_avatar_is_sent_with_type_and_model() -> None:
    options = SessionOptions(
        avatar={"character": "anna", "type": "photo-avatar", "model": "vasa-1"}
    )
    assert sent(options)["avatar"] == {
        "character": "anna",
        "customized": False,
        "type": "photo-avatar",
        "model": "vasa-1",
    }


@pytest.mark.parametrize(
    ("avatar", "message"),
    [
        ({"character": ""}, "character"),
        ({"style": "casual"}, "character"),
        ({"character": "anna", "type": "photo-avatar"}, "needs model"),
        ({"character": "lisa", "model": "vasa-1"}, "photo avatars only"),
        ({"character": "lisa", "type": "hologram"}, "type"),
        ({"character": "lisa", "video": {"codec": "vp8"}}, "codec"),
        ({"character": "lisa", "video": {"bitrate": 10}}, "bitrate"),
        ({"character": "lisa", "video": {"resolution": {"width": 0, "height": 10}}}, "width"),
        (
            {"character": "lisa", "video": {"crop": {"top_left": [9, 0], "bottom_right": [1, 5]}}},
            "above and left",
        ),
        ({"character": "lisa", "video": {"background": {"color": "green"}}}, "hex colour"),
        (
            {
                "character": "lisa",
                "video": {"background": {"color": "#000000", "image_url": "https://x/y.png"}},
            },
            "exactly one",
        ),
        ({"character": "lisa", "colour": "red"}, "colour"),
    ],
)
def test_wrong_avatar_options_say_what_is_wrong(avatar: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="avatar") as info:
        SessionOptions(avatar=avatar)
    assert message in str(info.value)


def test_avatar_modality_without_avatar_options_is_refused() -> None:
    with pytest.raises(ConfigError, match="set avatar"):
        SessionOptions(modalities=("text", "audio", "avatar"))


def test_parse_avatar_takes_character_and_optional_style() -> None:
    assert parse_avatar("lisa:casual-sitting") == AvatarOptions(
        character="lisa", style="casual-sitting"
    )
    assert parse_avatar("lisa") == AvatarOptions(character="lisa")
    for bad in ("", ":casual", "lisa:", "  "):
        with pytest.raises(ConfigError, match="CHARACTER:STYLE"):
            parse_avatar(bad)


def test_run_avatar_flag_reaches_the_session_options() -> None:
    import argparse

    from voiceagent.cli.run import add_arguments, build_session
    from voiceagent.cli.settings import RunSettings

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--avatar", "lisa:casual-sitting"])
    settings = RunSettings(mode="model", values={"model": "gpt-realtime"}, emulator=True)
    session = build_session(args, settings, "http://127.0.0.1:9", None, [])
    assert session.options.avatar == AvatarOptions(character="lisa", style="casual-sitting")
    with pytest.raises(ConfigError, match="CHARACTER:STYLE"):
        build_session(parser.parse_args(["--avatar", "lisa:"]), settings, "http://x", None, [])


async def test_a_session_with_an_avatar_is_accepted_by_the_emulator() -> None:
    from azure.core.credentials import AzureKeyCredential

    from voiceagent import MemoryAudio, VoiceAgentSession
    from voiceagent.emulator import Emulator

    async with Emulator(api_key="k", realtime=False) as emu:
        options = SessionOptions(avatar=parse_avatar("lisa:casual-sitting"))
        session = VoiceAgentSession(
            emu.endpoint,
            model="gpt-realtime",
            credential=AzureKeyCredential("k"),
            audio=MemoryAudio(),
            options=options,
        )
        async with session:
            server = await emu.wait_for_session(timeout=5)
            updated = await server.wait_for_server_event("session.updated", timeout=5)
        assert updated["session"]["avatar"]["character"] == "lisa"
        stun = {"urls": [f"stun:127.0.0.1:{emu.stun.port}"]}  # the emulator's, on loopback
        assert updated["session"]["avatar"]["ice_servers"] == [stun]
        assert "avatar" in updated["session"]["modalities"]
