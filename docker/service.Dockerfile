# The venue service: `maitre serve` on PostgreSQL. Build from the repository root:
#   docker build -f docker/service.Dockerfile -t maitre-service .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY gateway ./gateway
COPY firmware_sim ./firmware_sim
# Importing the compiled presence and ingest loops compiles them once, into site-packages' cache,
# so the service starts without compiling them (and needs no writable cache directory for them).
RUN pip install ".[service,postgres]" && rm -rf /src \
 && python -c "import maitre.presence.role_rule, maitre.presence.key_index, maitre.ingest.packed"

RUN useradd --system --uid 10001 --home-dir /var/lib/maitre --create-home maitre
USER maitre
WORKDIR /var/lib/maitre
ENV MAITRE_HTTP_HOST=0.0.0.0 MAITRE_HTTP_PORT=8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
ENTRYPOINT ["maitre"]
CMD ["serve"]
