"""The one-process demo: embedded broker, service, seeded bistro and a simulated crowd."""
