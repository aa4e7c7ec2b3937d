"""Tests of bot/accounts."""
