"""What the service says about itself: Prometheus metrics and structured logs."""
