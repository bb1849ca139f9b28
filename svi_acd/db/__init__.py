"""Database access: one declarative base, async engines for SQLite and PostgreSQL, migrations."""
