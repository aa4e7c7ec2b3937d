"""Tests of bot/web."""
