import importlib
import subprocess
import sys

import voiceagent


def test_all_is_sorted_unique_and_resolvable() -> None:
    names = voiceagent.__all__
    assert names == sorted(names) and len(set(names)) == len(names)
    for name in names:
        assert getattr(voiceagent, name) is not None, name


def test_every_public_name_is_exported() -> None:
    # A public class or function defined in the package but missing from __all__ is drift.
    exported = set(voiceagent.__all__)
    public = {
        name
        for name, value in vars(voiceagent).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("voiceagent")
        and isinstance(value, type)
    }
    assert public <= exported


def test_import_does_not_load_portaudio_or_the_emulator() -> None:
    code = (
        "import sys, voiceagent; "
        "print('sounddevice' in sys.modules, 'voiceagent.emulator.server' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_module_dunder_all_names_exist() -> None:
    for module in (
        "events",
        "dispatch",
        "errors",
        "session",
        "session.turns",
        "conversation",
        "voicelive.wire",
        "protocol.formats",
    ):
        mod = importlib.import_module(f"voiceagent.{module}")
        for name in mod.__all__:
            assert hasattr(mod, name), f"voiceagent.{module}.{name}"
