"""Unit tests of hotline/speech/ (pure: synthetic WAVs in tmp dirs, hand-written Vosk JSON)."""
