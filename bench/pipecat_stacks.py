"""The processes of ``bench/pipecat_twilio.py``: the emulator and the two Twilio servers measured.

Each server runs in its own process; :class:`ServerProcess` reads its CPU and RSS from ``/proc``,
its event-loop lag from the server itself, and opens calls to it the way Twilio would.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp
from twilio.request_validator import RequestValidator

from voiceagent.testing.carriers import FakeTwilioCall

BENCH = Path(__file__).resolve().parent
LAG_BOUNDS_S = (0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SETTINGS = re.compile(r"^(VOICELIVE_|AZURE_|AGENT_|PROJECT_|TWILIO_|ACS_|VOICEAGENT_)")


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the server binds it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """Process ``pid``'s user + system CPU seconds so far (``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def child_env(**extra: str) -> dict[str, str]:
    """This environment without any Voice Live / carrier setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not SETTINGS.match(k)}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


async def start_emulator(speed: float) -> tuple[asyncio.subprocess.Process, str]:
    """``python -m voiceagent.emulator`` (synthetic voice, no recognition); its endpoint."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "voiceagent.emulator", "--port", "0", "--log-level", "WARNING",
        "--speed", str(speed), "--speech", "off",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=child_env(),
    )  # fmt: skip
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
    found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
    if not found:
        raise RuntimeError(f"the emulator did not start: {line!r}")
    return proc, found.group(1)


class ServerProcess:
    """One measured server: its process, where calls go, how to read its loop lag."""

    def __init__(self, proc: asyncio.subprocess.Process, port: int, log: Path) -> None:
        self.proc = proc
        self.port = port
        self.log = log
        self.base = f"http://127.0.0.1:{port}"
        self.http = aiohttp.ClientSession()

    def cpu_s(self) -> float:
        """The process's user + system CPU seconds so far."""
        return cpu_seconds(self.proc.pid)

    def rss_mb(self) -> float:
        """The process's resident set size, MB."""
        with open(f"/proc/{self.proc.pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE / 1e6

    async def lag_counts(self) -> list[int]:
        """Loop-lag wake-ups so far per bucket (``LAG_BOUNDS_S`` then +Inf), not cumulative."""
        raise NotImplementedError

    async def new_call(self, i: int) -> FakeTwilioCall:
        """A call to this server (not yet connected)."""
        raise NotImplementedError

    async def wait_ready(self, path: str, timeout: float = 90.0) -> None:
        """Poll ``path`` until it answers 200 (the server is up)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.proc.returncode is not None or loop.time() > deadline:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"server on port {self.port} did not start:\n{tail}")
            try:
                async with self.http.get(self.base + path) as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.3)

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s."""
        await self.http.close()
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def per_bucket(cumulative: list[int]) -> list[int]:
    return [cumulative[0]] + [b - a for a, b in zip(cumulative, cumulative[1:], strict=False)]


class VoiceagentServer(ServerProcess):
    """``voiceagent serve`` with its phone routes; calls answered through the signed webhook."""

    auth_token = secrets.token_hex(16)  # Twilio's, in real life

    async def lag_counts(self) -> list[int]:
        async with self.http.get(self.base + "/metrics") as answer:
            text = await answer.text()
        cumulative = [
            int(float(m.group(2)))
            for m in re.finditer(
                r'^voiceagent_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\S+)$', text, re.M
            )
        ]
        if len(cumulative) != len(LAG_BOUNDS_S) + 1:
            raise RuntimeError("voiceagent serve's /metrics has no event-loop lag histogram")
        return per_bucket(cumulative)

    async def new_call(self, i: int) -> FakeTwilioCall:
        form = {"CallSid": "CA" + secrets.token_hex(16), "From": "+15550100", "To": "+15550199"}
        webhook = self.base + "/twilio/voice"
        signature = RequestValidator(self.auth_token).compute_signature(webhook, form)
        headers = {"X-Twilio-Signature": signature}
        async with self.http.post(webhook, data=form, headers=headers) as answer:
            twiml = await answer.text()
        stream = re.search(r'<Stream url="([^"]+)"', twiml)
        if stream is None:
            raise RuntimeError(f"the voice webhook did not answer with a stream: {twiml[:300]}")
        parameters = dict(re.findall(r'<Parameter name="([^"]+)" value="([^"]+)"', twiml))
        call = FakeTwilioCall(stream.group(1), parameters=parameters, seed=i)
        call.call_sid = form["CallSid"]
        return call


class PipecatServer(ServerProcess):
    """``bench/pipecat_server.py`` under uvicorn; calls go straight to its ``/ws``."""

    def __init__(self, *a: Any) -> None:
        super().__init__(*a)
        self._counts = [0] * (len(LAG_BOUNDS_S) + 1)

    async def lag_counts(self) -> list[int]:
        async with self.http.get(self.base + "/bench/lag") as answer:
            samples = (await answer.json())["lags_s"]
        for lag in samples:
            index = next((i for i, b in enumerate(LAG_BOUNDS_S) if lag <= b), len(LAG_BOUNDS_S))
            self._counts[index] += 1
        return list(self._counts)

    async def new_call(self, i: int) -> FakeTwilioCall:
        return FakeTwilioCall(f"ws://127.0.0.1:{self.port}/ws", seed=i)


async def spawn(cmd: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            *cmd, stdout=out, stderr=asyncio.subprocess.STDOUT, env=env, cwd=log.parent
        )


async def start_voiceagent(endpoint: str, args: Any, tmp: Path) -> ServerProcess:
    """``python -m voiceagent serve`` in model mode against the emulator."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "voiceagent", "serve", "--endpoint", endpoint,
        "--model", "gpt-realtime", "--api-key", "bench", "--port", str(port),
        "--public-url", f"http://127.0.0.1:{port}", "--max-sessions", str(args.calls + 5),
        "--drain-timeout", "5",
    ]  # fmt: skip
    env = child_env(TWILIO_AUTH_TOKEN=VoiceagentServer.auth_token)
    server = VoiceagentServer(
        await spawn(cmd, env, tmp / "voiceagent.log"), port, tmp / "voiceagent.log"
    )
    await server.wait_ready("/healthz")
    return server


async def start_pipecat(endpoint: str, args: Any, tmp: Path) -> ServerProcess:
    """``uvicorn pipecat_server:app`` (one process, asyncio loop, websockets)."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "uvicorn", "pipecat_server:app", "--app-dir", str(BENCH),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    env = child_env(
        VOICELIVE_ENDPOINT=endpoint,
        AZURE_VOICELIVE_API_KEY="bench",
        PIPECAT_SAMPLE_RATE=str(args.pipecat_rate),
        PIPECAT_AUTO_SILENCE="0" if args.pipecat_no_auto_silence else "1",
    )
    log = tmp / "pipecat.log"
    server = PipecatServer(await spawn(cmd, env, log), port, log)
    await server.wait_ready("/bench/lag")
    return server
