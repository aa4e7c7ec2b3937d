"""The Telegram-facing runtime: the Application, its start and stop, the webhook, health,
errors, jobs, the update processor, and each update's turn across processes. The only part of
`bot` that imports `telegram`."""
