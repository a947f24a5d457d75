"""Twilio and ACS wire formats, from the providers' documented example messages."""

from __future__ import annotations

import base64
import json

import pytest

from voiceagent.bridges.telephony.acs import (
    AcsAudio,
    AcsDtmf,
    AcsMetadata,
    encode_acs_audio,
    encode_stop_audio,
    parse_acs,
)
from voiceagent.bridges.telephony.errors import WireFormatError
from voiceagent.bridges.telephony.twilio import (
    TwilioConnected,
    TwilioDtmf,
    TwilioMark,
    TwilioMedia,
    TwilioStart,
    TwilioStop,
    encode_clear,
    encode_mark,
    encode_media,
    parse_twilio,
)

SID = "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
START = {
    "event": "start",
    "sequenceNumber": "1",
    "start": {
        "accountSid": "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "streamSid": SID,
        "callSid": "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"token": "one-time-SECRET"},
    },
    "streamSid": SID,
}


def test_twilio_messages_from_the_documentation() -> None:
    assert parse_twilio('{"event": "connected", "protocol": "Call", "version": "1.0.0"}') == (
        TwilioConnected("Call", "1.0.0")
    )
    start = parse_twilio(json.dumps(START))
    assert isinstance(start, TwilioStart)
    assert (start.stream_sid, start.encoding, start.sample_rate, start.channels) == (
        SID,
        "audio/x-mulaw",
        8000,
        1,
    )
    assert start.call_sid.startswith("CA") and start.tracks == ("inbound",)
    assert start.custom_parameters == {"token": "one-time-SECRET"}
    assert "SECRET" not in repr(start)  # the minted token never reaches a log
    media = {
        "event": "media",
        "sequenceNumber": "3",
        "media": {"track": "inbound", "chunk": "1", "timestamp": "5", "payload": "no+JhoaJjpw="},
        "streamSid": SID,
    }
    assert parse_twilio(json.dumps(media)) == TwilioMedia(
        base64.b64decode("no+JhoaJjpw="), "inbound", 1, 5
    )
    dtmf = {"event": "dtmf", "streamSid": SID, "sequenceNumber": "5",
            "dtmf": {"track": "inbound_track", "digit": "1"}}  # fmt: skip
    assert parse_twilio(json.dumps(dtmf)) == TwilioDtmf("1", "inbound_track")
    mark = {"event": "mark", "sequenceNumber": "4", "streamSid": SID, "mark": {"name": "m7"}}
    assert parse_twilio(json.dumps(mark)) == TwilioMark("m7")
    stop = {"event": "stop", "sequenceNumber": "5", "streamSid": SID,
            "stop": {"accountSid": "AC1", "callSid": "CA1"}}  # fmt: skip
    assert parse_twilio(json.dumps(stop)) == TwilioStop("CA1")


def test_twilio_outbound_messages_are_text_json() -> None:
    assert json.loads(encode_media(SID, b"\xff\x7f")) == {
        "event": "media",
        "streamSid": SID,
        "media": {"payload": base64.b64encode(b"\xff\x7f").decode()},
    }
    assert json.loads(encode_mark(SID, "m1")) == {
        "event": "mark",
        "streamSid": SID,
        "mark": {"name": "m1"},
    }
    assert json.loads(encode_clear(SID)) == {"event": "clear", "streamSid": SID}


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        ("not json", "not JSON"),
        ("[1]", "JSON object"),
        ('{"event": "hello"}', "unknown Twilio event 'hello'"),
        ('{"event": "media"}', "no 'media' object"),
        ('{"event": "media", "media": {"payload": "@@@"}}', "not base64"),
        ('{"event": "media", "media": {"payload": "AA==", "chunk": "x"}}', "'chunk' must be"),
        ('{"event": "mark", "mark": {}}', "'name' must be a string"),
        ('{"event": "start", "start": {"callSid": "CA"}}', "no 'mediaFormat'"),
    ],
)
def test_malformed_twilio_frames_say_what_is_wrong(frame: str, says: str) -> None:
    with pytest.raises(WireFormatError, match=says):
        parse_twilio(frame)


def test_acs_messages_from_the_documentation() -> None:
    meta = {"kind": "AudioMetadata", "audioMetadata": {
        "subscriptionId": "89e8cb59-b991-48b0-b154-1db84f16a077",
        "encoding": "PCM", "sampleRate": 24000, "channels": 1, "length": 640}}  # fmt: skip
    assert parse_acs(json.dumps(meta)) == AcsMetadata(
        "89e8cb59-b991-48b0-b154-1db84f16a077", "PCM", 24000, 1, 640
    )
    pcm = bytes(range(8))
    audio = {"kind": "AudioData", "audioData": {
        "timestamp": "2024-05-08T13:33:32.177Z", "participantRawID": "8:acs:1",
        "data": base64.b64encode(pcm).decode(), "silent": False}}  # fmt: skip
    assert parse_acs(json.dumps(audio)) == AcsAudio(
        pcm, False, "2024-05-08T13:33:32.177Z", "8:acs:1"
    )
    silent = {"kind": "AudioData", "audioData": {"data": "", "silent": True}}
    assert parse_acs(json.dumps(silent)) == AcsAudio(b"", True)
    dtmf = {"kind": "DtmfData", "dtmfData": {"data": "5"}}
    assert parse_acs(json.dumps(dtmf)) == AcsDtmf("5")


def test_acs_outbound_messages_are_pascal_case() -> None:
    assert json.loads(encode_acs_audio(b"\x01\x00")) == {
        "Kind": "AudioData",
        "AudioData": {"Data": "AQA="},
        "StopAudio": None,
    }
    assert json.loads(encode_stop_audio()) == {
        "Kind": "StopAudio",
        "AudioData": None,
        "StopAudio": {},
    }


@pytest.mark.parametrize(
    ("frame", "says"),
    [
        ("{", "not JSON"),
        ('{"Kind": "AudioData"}', "unknown ACS kind None"),
        ('{"kind": "AudioData", "audioData": {"data": "AAAA"}}', "not whole PCM16"),
        ('{"kind": "AudioData", "audioData": {"data": 3}}', "base64 string"),
        ('{"kind": "DtmfData", "dtmfData": {}}', "digit pressed"),
        ('{"kind": "AudioMetadata", "audioMetadata": {"sampleRate": "fast"}}', "'sampleRate'"),
    ],
)
def test_malformed_acs_frames_say_what_is_wrong(frame: str, says: str) -> None:
    with pytest.raises(WireFormatError, match=says):
        parse_acs(frame)
