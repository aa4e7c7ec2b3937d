"""Tests of bot/devtools."""
