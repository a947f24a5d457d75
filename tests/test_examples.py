"""The examples are documentation: each one RUNS here, against the embedded emulator."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

EXPECTED: dict[str, list[str]] = {
    "basic_agent.py": [
        "user: What is the weather like in Paris?",
        "assistant: It is sunny in Paris.",
    ],
    "agent_version.py": ["agent_id='concierge:2'", "assistant: You said: Which version are you?"],
    "agent_other_resource.py": [
        "'foundry_resource_override': 'contoso-foundry'",
        "assistant: You said: Hello from the other resource",
    ],
    "resume_conversation.py": ["assistant: Nice to meet you.", "assistant: You are Ada."],
    "greeting.py": [
        "assistant: Hello! I'm concierge. How can I help you today?",
        "assistant: Welcome to Contoso! How can I help?",
    ],
    "interim_responses.py": [
        "assistant: Let me think about that for a moment.",  # the filler, before the answer
        "assistant: I found a table for two at eight o'clock.",
        "(llm_interim_response configured)",
        "(static_interim_response configured)",
    ],
    "auto_truncation.py": [
        "assistant: Once upon a time",  # the heard part, not an empty text
        "[interrupted]",
        "(interrupted after",
        "assistant: Sure, I will stop.",
    ],
    "model_with_key.py": ["assistant: You said: Do you repair tyres?"],
    "model_with_tools.py": [
        "user: What's the weather in Paris?",
        "assistant: It is sunny in Paris.",
    ],
    "custom_handlers.py": [
        "[barge-in #1: heard 'Here is the news.",  # something was heard before the cut
        "assistant: All right.",
        "barge-ins: 1",
    ],
    "custom_audio_backend.py": ["assistant: You said: Hello, can you hear me?", "s of speech"],
    "classic_agent.py": ["assistant: You said: Hello, classic agent"],
    "text_only.py": ["assistant: You said: What can you do?", "assistant: You said: Thank you"],
    "invocations_agent.py": [
        "(custom event: {'type': 'agent.lookup', 'city': 'paris'})",
        "assistant: In Paris it is sunny and 24 degrees.",
    ],
    "agent_conversation.py": ["assistant: You said: What can you do?", "CONVERSATION_ID = conv_"],
    "web_aiohttp.py": [
        "caption (user): What is the weather like in Paris?",
        "caption (assistant): It is sunny in Paris.",
    ],
    "phone_acs.py": [  # the media socket accepted by its ACS JWT, the answer heard on the line
        "acs: streaming a call to ws://127.0.0.1:",
        "user: What are your opening hours?",
        "assistant: We are open from nine to five.",
        "acs: the caller heard",
    ],
    "phone_twilio.py": [  # a signed webhook, the minted stream, the answer heard on the line
        "twilio: streaming the call to ws://127.0.0.1:",
        "user: What is the weather like in Paris?",
        "assistant: It is sunny in Paris.",
        "twilio: the caller heard",
    ],
    "web_flask.py": [  # Flask's /login set the cookie the voice socket's authorize reads
        "caption (user): What is the weather like in Paris?",
        "caption (assistant): It is sunny in Paris.",
    ],
}


def test_every_example_is_listed() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py")} - {"common.py", "test_my_voice_app.py"}
    assert scripts == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs_against_the_emulator(name: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--emulator"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    for expected in EXPECTED[name]:
        assert expected in proc.stdout, (expected, proc.stdout)
    source = (EXAMPLES / name).read_text()
    assert "voiceagent._" not in source  # public API only
    assert source.startswith('"""') and "--emulator" in source  # says how to run it


def test_examples_use_only_public_names() -> None:
    import voiceagent
    import voiceagent.emulator
    import voiceagent.invocations
    import voiceagent.serve
    import voiceagent.serve.telephony
    import voiceagent.testing
    import voiceagent.testing.carriers

    public = {
        "voiceagent.invocations": set(voiceagent.invocations.__all__),
        "voiceagent": set(voiceagent.__all__),
        "voiceagent.emulator": set(voiceagent.emulator.__all__),
        "voiceagent.testing": set(voiceagent.testing.__all__),
        "voiceagent.serve": set(voiceagent.serve.__all__),
        "voiceagent.serve.telephony": set(voiceagent.serve.telephony.__all__),
        "voiceagent.testing.carriers": set(voiceagent.testing.carriers.__all__),
    }
    import ast

    for path in EXAMPLES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("voiceagent"):
                assert node.module in public, (path.name, node.module)
                for alias in node.names:
                    assert alias.name in public[node.module], (path.name, alias.name)


def test_no_example_imports_another_example() -> None:
    """Each example reads on its own: what they share is in common.py, nothing else."""
    import ast

    others = {p.stem for p in EXAMPLES.glob("*.py")} - {"common"}
    for path in EXAMPLES.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            assert not others & {n.split(".")[0] for n in names}, (path.name, names)


def test_the_testing_example_works_in_a_new_project(tmp_path: Path) -> None:
    """Copied alone into a project with no pytest configuration (pytest-asyncio strict mode)."""
    (tmp_path / "test_my_voice_app.py").write_text((EXAMPLES / "test_my_voice_app.py").read_text())
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout
