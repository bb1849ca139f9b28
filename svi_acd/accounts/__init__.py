"""Local accounts of the web pages and the JSON API: roles, passwords, sessions, API tokens."""
