"""The running service: ingest sessions and venue claims, the matching queue, the cluster relay."""
