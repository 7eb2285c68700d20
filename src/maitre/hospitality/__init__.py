"""Hospitality: a presence event becomes a guest, a reservation and the alerts staff should see."""
