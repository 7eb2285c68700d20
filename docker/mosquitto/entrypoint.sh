#!/bin/sh
# Run the broker on the files `maitre gateways credentials` wrote (mounted read-only at /maitre/broker).
# They belong to whoever wrote them, and Mosquitto reads them only after dropping to its own user:
# give it a private copy it owns.
set -eu
src=/maitre/broker
dst=/mosquitto/config/maitre
if [ ! -f "$src/maitre.conf" ]; then
  echo "no $src/maitre.conf: write the broker's files with \`maitre gateways credentials\` (docs/operate/deploy.md)" >&2
  exit 1
fi
rm -rf "$dst"
mkdir -p "$dst"
cp "$src"/* "$dst"/
chmod 700 "$dst"
chmod 600 "$dst"/*
chown -R mosquitto:mosquitto "$dst" /mosquitto/data 2>/dev/null || true
exec mosquitto -c /mosquitto/config/mosquitto.conf
