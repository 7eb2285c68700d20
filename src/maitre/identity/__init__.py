"""Band identity: rotating ephemeral ids (Eddystone-EID computation) and their central resolution."""
