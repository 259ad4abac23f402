"""The outbox: every outgoing e-mail is a database row before it is a message."""
