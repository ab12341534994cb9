"""Unit tests of speech/ (pure: synthetic WAVs in tmp dirs, hand-written Vosk JSON)."""
