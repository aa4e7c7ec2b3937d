"""Tests of bot/registration."""
