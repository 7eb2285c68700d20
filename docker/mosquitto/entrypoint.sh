#!/bin/sh
# Write Mosquitto's password file from the environment (hashed), then run the broker.
set -eu
: "${MQTT_SERVICE_PASSWORD:?set MQTT_SERVICE_PASSWORD}"
: "${MQTT_GATEWAY_PASSWORD:?set MQTT_GATEWAY_PASSWORD}"
: "${MQTT_GATEWAY_VENUES:=bistro}"
umask 077
passwd=/mosquitto/data/passwd
rm -f "$passwd"
touch "$passwd"
mosquitto_passwd -b "$passwd" maitre-service "$MQTT_SERVICE_PASSWORD"
for venue in $(echo "$MQTT_GATEWAY_VENUES" | tr ',' ' '); do
  mosquitto_passwd -b "$passwd" "$venue" "$MQTT_GATEWAY_PASSWORD"
done
chown mosquitto:mosquitto "$passwd" 2>/dev/null || true
exec mosquitto -c /mosquitto/config/mosquitto.conf
