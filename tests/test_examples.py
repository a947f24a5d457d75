"""The examples are part of the documentation: they must run."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_model_with_tools_example_runs_against_the_emulator() -> None:
    out = subprocess.run(
        [sys.executable, str(EXAMPLES / "model_with_tools.py")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "user: What's the weather in Paris?",
        "assistant: It is sunny in Paris.",
    ]


def test_agent_example_is_valid_python_using_only_the_public_api() -> None:
    source = (EXAMPLES / "agent_conversation.py").read_text()
    compile(source, "agent_conversation.py", "exec")
    assert "voiceagent._" not in source and "from voiceagent." not in source
