"""The Telegram-facing runtime: the Application, its start and stop, the webhook, health,
errors, jobs, persistence and the update processor. The only part of `bot` that imports
`telegram`."""
