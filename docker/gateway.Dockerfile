# A gateway agent: `maitre-gateway run`. Build from the repository root:
#   docker build -f docker/gateway.Dockerfile -t maitre-gateway .
# Scanning a real radio needs the host's BlueZ over D-Bus (see docs/operate/gateway.md); in the compose
# stack the gateways run --simulate instead.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY gateway ./gateway
COPY firmware_sim ./firmware_sim
RUN pip install ".[gateway]" && rm -rf /src

RUN useradd --system --uid 10002 --home-dir /var/lib/maitre-gateway --create-home gateway
USER gateway
WORKDIR /var/lib/maitre-gateway
# The store-and-forward spool lives here; mount a volume so it survives the container.
ENV STATE_DIRECTORY=/var/lib/maitre-gateway
ENTRYPOINT ["maitre-gateway"]
CMD ["run", "--help"]
