import numpy as np
import pytest

from voiceagent.audio import decode_pcm16
from voiceagent.audio.codec import InputEncoder, OutputDecoder, wire_sample_rate
from voiceagent.audio.format import AudioFormat
from voiceagent.protocol.g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode


def test_g711_reference_values() -> None:
    # ITU-T G.711 reference points (the values the retired stdlib audioop produced).
    pcm = np.array([0, 1000, -1000, 32767, -32768], dtype="<i2").tobytes()
    assert ulaw_encode(pcm) == bytes([0xFF, 0xCE, 0x4E, 0x80, 0x00])
    assert alaw_encode(pcm) == bytes([0xD5, 0xFA, 0x7A, 0xAA, 0x2A])
    assert np.frombuffer(ulaw_decode(bytes([0xFF, 0x80, 0x00])), "<i2").tolist() == [
        0,
        32124,
        -32124,
    ]
    assert np.frombuffer(alaw_decode(bytes([0xD5, 0xAA, 0x2A])), "<i2").tolist() == [
        8,
        32256,
        -32256,
    ]


@pytest.mark.parametrize("enc,dec", [(ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)])
def test_g711_round_trip_error_is_small(enc: object, dec: object) -> None:
    x = (np.sin(np.arange(8000) / 7) * 20000).astype("<i2")
    y = np.frombuffer(dec(enc(x.tobytes())), "<i2").astype(float)  # type: ignore[operator]
    rel = np.abs(y - x) / np.maximum(np.abs(x), 256)
    assert rel.max() < 0.13


def test_formats_and_rates() -> None:
    assert wire_sample_rate("pcm16") == 24000
    assert wire_sample_rate("g711_alaw") == 8000
    with pytest.raises(ValueError, match="unknown output_audio_format"):
        wire_sample_rate("mp3")
    fmt = AudioFormat()
    assert fmt.block_ms == 20.0 and fmt.block_bytes == 960
    assert fmt.frames_to_ms(24000) == 1000 and fmt.ms_to_frames(20) == 480


def test_input_encoder_resamples_and_encodes() -> None:
    tone = (np.sin(2 * np.pi * 440 * np.arange(24000) / 24000) * 10000).astype("<i2")
    enc = InputEncoder(24000, "g711_ulaw", 8000)
    out = b"".join(enc.encode(tone[i : i + 480].tobytes()) for i in range(0, 24000, 480))
    assert 7800 <= len(out) <= 8000  # one byte per 8 kHz sample (resampler latency aside)
    decoded = np.frombuffer(ulaw_decode(out), "<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(decoded[1000:7000]))
    peak_hz = np.argmax(spectrum) * 8000 / 6000
    assert abs(peak_hz - 440) < 5
    assert OutputDecoder("pcm16").decode(b"\x01\x02") == b"\x01\x02"


def test_decode_pcm16_decodes_g711_passes_pcm16_and_names_what_it_accepts() -> None:
    pcm = bytes(range(0, 200, 2)) * 2  # small positive samples
    assert decode_pcm16(pcm, "pcm16") is pcm
    assert decode_pcm16(ulaw_encode(pcm), "g711_ulaw") == ulaw_decode(ulaw_encode(pcm))
    assert decode_pcm16(alaw_encode(pcm), "g711_alaw") == alaw_decode(alaw_encode(pcm))
    with pytest.raises(ValueError, match="pcm16, g711_ulaw or g711_alaw"):
        decode_pcm16(b"\x00", "opus")  # type: ignore[arg-type]
