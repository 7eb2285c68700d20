"""The guest side: check-in from a phone, consent per purpose, erasure, retention and personalization."""
