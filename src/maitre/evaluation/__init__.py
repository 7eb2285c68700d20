"""Evaluation: run simulated evenings through the real pipeline and score greetings against truth."""
