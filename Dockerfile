# voiceagent serve in a container: the page, the phone media routes, /healthz /readyz /metrics.
# Build: docker build -t voiceagent .   Run: see docs/deploy.md (and README.md, "Deploying").
FROM python:3.11-slim

# PortAudio: the sounddevice dependency loads it at import (no device is used in a server)
RUN apt-get update \
    && apt-get install -y --no-install-recommends libportaudio2 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 voiceagent
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir '.[serve,telephony]'

USER voiceagent
ENV PYTHONUNBUFFERED=1
EXPOSE 8080
# the drain (SIGTERM) lets live conversations finish: give the runtime as long to stop
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
ENTRYPOINT ["voiceagent", "serve", "--host", "0.0.0.0", "--port", "8080"]
