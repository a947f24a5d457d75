"""The container and the Kubernetes manifests agree with the server's routes, ports and defaults."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web

from voiceagent.serve import create_app
from voiceagent.serve.drain import DEFAULT_DRAIN_TIMEOUT_S
from voiceagent.serve.metrics import ServeMetrics
from voiceagent.serve.registry import SessionRegistry

ROOT = Path(__file__).resolve().parents[2]


class _NoMaker:
    def create(self, **kwargs: Any) -> Any:
        raise AssertionError("no session is made here")


def _routes() -> set[str]:
    app = create_app(_NoMaker())
    return {r.resource.canonical for r in app.router.routes() if r.resource is not None}


def _dockerfile() -> dict[str, list[str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.setdefault(word, []).append(rest.strip())
    return found


def _deployment() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "deploy/k8s/deployment.yaml").read_text())  # type: ignore[no-any-return]


def test_the_probes_use_the_servers_routes_and_port() -> None:
    routes = _routes()
    pod = _deployment()["spec"]["template"]["spec"]
    container = pod["containers"][0]
    named = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz" and "/readyz" in routes
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz" and "/healthz" in routes
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] in named
    annotations = _deployment()["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/path"] in routes
    entry = json.loads(_dockerfile()["ENTRYPOINT"][0])
    port = int(entry[entry.index("--port") + 1])
    assert named["http"] == port == int(annotations["prometheus.io/port"])
    assert f"127.0.0.1:{port}/healthz" in _dockerfile()["HEALTHCHECK"][0]
    service = yaml.safe_load((ROOT / "deploy/k8s/service.yaml").read_text())
    assert service["spec"]["ports"][0]["targetPort"] in named
    assert not service["spec"].get("sessionAffinity")  # one socket per conversation


def test_the_grace_period_outlasts_the_drain() -> None:
    pod = _deployment()["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    drain = float(args[args.index("--drain-timeout") + 1])
    assert drain == DEFAULT_DRAIN_TIMEOUT_S
    pause = float(pod["containers"][0]["lifecycle"]["preStop"]["exec"]["command"][1])
    assert pod["terminationGracePeriodSeconds"] > drain + pause


def test_keda_scales_on_a_metric_the_server_exports() -> None:
    scaled = yaml.safe_load((ROOT / "deploy/k8s/scaledobject.yaml").read_text())
    assert scaled["spec"]["scaleTargetRef"]["name"] == _deployment()["metadata"]["name"]
    query = scaled["spec"]["triggers"][0]["metadata"]["query"]
    body, _ = ServeMetrics(SessionRegistry(1)).render()
    metric = re.search(r"\((\w+)", query)
    assert metric and f"# TYPE {metric.group(1)} gauge" in body.decode()
    pod = _deployment()["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert float(scaled["spec"]["triggers"][0]["metadata"]["threshold"]) <= float(
        args[args.index("--max-sessions") + 1]
    )


def test_the_dockerfile_runs_the_readmes_commands_as_a_non_root_user() -> None:
    readme = (ROOT / "README.md").read_text()
    docker = _dockerfile()
    assert docker["FROM"] == ["python:3.11-slim"]
    assert docker["USER"] and docker["USER"][-1] != "root"
    install = next(r for r in docker["RUN"] if "pip install" in r)
    target = shlex.split(install)[-1]
    assert f"pip install '{target}'" in readme
    entry = " ".join(json.loads(docker["ENTRYPOINT"][0]))
    assert f"`{entry}`" in readme or f"{entry} " in readme
    assert entry.startswith("voiceagent serve")


def test_the_routes_the_docs_name_exist() -> None:
    assert {"/healthz", "/readyz", "/sessions", "/metrics", "/ws"} <= _routes()
    assert isinstance(create_app(_NoMaker()), web.Application)
