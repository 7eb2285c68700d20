"""A simulated world of wristbands, radio and crowds, so Maître runs without hardware."""
