"""E-mail: each kind built from its templates, sent through SMTP (or written as a file), and
the outbox that never loses one."""
