"""Tests of bot/mail."""
