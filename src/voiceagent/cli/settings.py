"""``voiceagent run`` settings: flags beat the environment, which beats ``.env``.

Each setting has the flag and the environment variable of the Azure Voice Live samples, so a
samples' ``.env`` works unchanged. Every missing setting is reported at once, with where to set
it (:class:`MissingSettings`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

__all__ = ["ENV", "MissingSettings", "RunSettings", "read_env", "resolve"]

Mode = Literal["agent", "model", "classic"]

ENV: dict[str, tuple[str, ...]] = {
    "endpoint": ("VOICELIVE_ENDPOINT", "AZURE_VOICELIVE_ENDPOINT"),
    "agent_name": ("AGENT_NAME",),
    "project_name": ("PROJECT_NAME",),
    "agent_version": ("AGENT_VERSION",),
    "conversation_id": ("CONVERSATION_ID",),
    "foundry_resource_override": ("FOUNDRY_RESOURCE_OVERRIDE",),
    "agent_authentication_identity_client_id": ("AGENT_AUTHENTICATION_IDENTITY_CLIENT_ID",),
    "voice": ("VOICE_NAME",),
    "model": ("VOICELIVE_MODEL", "AZURE_VOICELIVE_MODEL"),
    "api_key": ("AZURE_VOICELIVE_API_KEY",),
    "agent_id": ("AGENT_ID", "AI_FOUNDRY_AGENT_ID"),
    "agent_connection_string": ("AGENT_CONNECTION_STRING",),
    "instructions": ("VOICELIVE_INSTRUCTIONS",),
}
"""Setting -> the environment variables that may hold it (the first set one wins)."""

EMULATOR_AGENT = ("concierge", "emulator")
"""Agent name and project used with ``--emulator`` when none is configured."""


class MissingSettings(Exception):
    """Settings that are needed and set nowhere; ``str()`` lists each and where to set it."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            "missing settings:\n"
            + "\n".join(f"  - {m}" for m in missing)
            + "\nSet them as flags, in the environment, or in a .env file in this directory "
            "(or try it offline: voiceagent run --emulator)."
        )
        self.missing = missing


class InvalidSetting(MissingSettings):
    """A setting given that cannot be used as it is (``str()`` says why and what to do)."""

    def __init__(self, problem: str) -> None:
        Exception.__init__(self, problem)
        self.missing = [problem]


@dataclass
class RunSettings:
    """Everything ``voiceagent run`` needs, resolved, with where each value came from."""

    mode: Mode
    values: dict[str, str]
    sources: dict[str, str] = field(default_factory=dict)
    emulator: bool = False

    def get(self, name: str) -> str | None:
        """The value of a setting, or None when unset."""
        return self.values.get(name)


def read_env(cwd: Path | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """The environment over ``.env`` (in ``cwd``): values and, per variable, its origin."""
    from dotenv import dotenv_values

    path = (cwd or Path.cwd()) / ".env"
    merged: dict[str, str] = {}
    origin: dict[str, str] = {}
    if path.is_file():
        for key, value in dotenv_values(path).items():
            if value is not None:
                merged[key], origin[key] = value, ".env"
    for key, value in os.environ.items():
        merged[key], origin[key] = value, "environment"
    return merged, origin


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _where(name: str) -> str:
    variables = " or ".join(ENV[name])
    return f"{_flag(name)} or {variables}"


def resolve(
    args: argparse.Namespace, env: Mapping[str, str], origin: Mapping[str, str]
) -> RunSettings:
    """Combine flags, environment and ``.env`` into :class:`RunSettings`.

    Mode: ``--model`` (or ``VOICELIVE_MODEL`` with no agent configured) is model mode;
    ``--agent-id`` (or ``AGENT_ID``) is a classic agent; otherwise a Foundry agent.

    Raises:
        MissingSettings: Needed settings are set nowhere (all of them are listed).
    """
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name, variables in ENV.items():
        flag_value = getattr(args, name, None)
        if flag_value is not None:
            values[name], sources[name] = flag_value, _flag(name)
            continue
        for var in variables:
            if env.get(var):
                values[name], sources[name] = env[var], f"{var} ({origin.get(var, 'environment')})"
                break
    emulator = bool(args.emulator)
    if args.model is not None:
        mode: Mode = "model"
    elif args.agent_id is not None or ("agent_id" in values and args.agent_name is None):
        mode = "classic"
    elif "model" in values and "agent_name" not in values:
        mode = "model"
    else:
        mode = "agent"
    if mode != "model":
        values.pop("model", None)
    missing: list[str] = []
    if mode != "model" and getattr(args, "api_key", None) is not None:
        # Not silently ignored: the user believes the key is used. (A key in the environment
        # or .env is ignored in agent mode, as the library does: a samples' .env holds one.)
        raise InvalidSetting(
            "--api-key is for model mode only (--model); agent mode takes Microsoft Entra ID "
            "only: remove --api-key and sign in with `az login` (or use a managed identity)"
        )
    if emulator:
        values.pop("endpoint", None)  # the embedded emulator's
        if mode == "agent":
            values.setdefault("agent_name", EMULATOR_AGENT[0])
            values.setdefault("project_name", EMULATOR_AGENT[1])
        if mode == "classic":
            values.setdefault("project_name", EMULATOR_AGENT[1])
    elif "endpoint" not in values:
        missing.append(f"endpoint: {_where('endpoint')} (https://<resource>.services.ai.azure.com)")
    if mode == "agent":
        for name in ("agent_name", "project_name"):
            if name not in values:
                missing.append(f"{name.replace('_', ' ')}: {_where(name)}")
        if "agent_authentication_identity_client_id" in values and (
            "foundry_resource_override" not in values
        ):
            missing.append(
                "foundry resource override (the identity client id is used only with it): "
                + _where("foundry_resource_override")
            )
    elif mode == "classic":
        if "project_name" not in values and "agent_connection_string" not in values:
            missing.append(
                f"project: {_where('project_name')}, or {_where('agent_connection_string')}"
            )
    elif not emulator and "api_key" not in values and not args.use_token_credential:
        missing.append(
            f"credential for model mode: {_where('api_key')}, or --use-token-credential "
            "(Microsoft Entra ID, e.g. after az login)"
        )
    if missing:
        raise MissingSettings(missing)
    return RunSettings(mode=mode, values=values, sources=sources, emulator=emulator)
