"""Alerts: stored with a per-venue sequence number, then fanned out to the screens."""
