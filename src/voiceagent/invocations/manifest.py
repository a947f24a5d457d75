"""The one manifest setting Voice Live needs from an Invocations agent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import ConfigError

__all__ = ["check_manifest"]

_FIX = 'add\n\nmetadata:\n  voiceLiveCompatible: "true"\n\n(the string "true", quoted)'


def check_manifest(path: str | Path) -> dict[str, Any]:
    """Check that an ``agent.manifest.yaml`` declares ``metadata.voiceLiveCompatible: "true"``.

    Args:
        path: The manifest file, or the folder holding ``agent.manifest.yaml``.

    Returns:
        The parsed manifest.

    Raises:
        ConfigError: The file is missing or not YAML, or the setting is absent or not the
            string ``"true"`` (an unquoted ``true`` is a YAML boolean); the message says what
            to write. Needs PyYAML (``pip install 'voiceagent[invocations]'``).
    """
    try:
        import yaml
    except ImportError:  # pragma: no cover - the extra is missing
        raise ConfigError(
            "checking a manifest needs PyYAML: pip install 'voiceagent[invocations]'"
        ) from None
    file = Path(path)
    if file.is_dir():
        file = file / "agent.manifest.yaml"
    try:
        manifest = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the agent manifest {str(file)!r}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"the agent manifest {str(file)!r} is not YAML: {exc}") from None
    if not isinstance(manifest, dict):
        raise ConfigError(f"the agent manifest {str(file)!r} is not a mapping; {_FIX}")
    metadata = manifest.get("metadata")
    value = metadata.get("voiceLiveCompatible") if isinstance(metadata, dict) else None
    if value != "true":
        found = "is missing" if value is None else f"is {value!r}, not the string 'true'"
        raise ConfigError(
            f"{str(file)!r}: metadata.voiceLiveCompatible {found}, so Voice Live will not "
            f"voice this agent; {_FIX}"
        )
    return manifest
