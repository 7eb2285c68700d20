"""Ingest: MQTT messages in, validated and deduplicated sightings out to presence."""
