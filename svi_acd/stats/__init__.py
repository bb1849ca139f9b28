"""Statistics: Asterisk's queue_log -> one outcome per call -> hourly rollups -> reports.

- ``journal``: ``import_queue_log`` (one-off, resumable, idempotent) and ``follow`` (a task
  the service runs to import the file as it grows);
- ``outcome``: the pure fold of a call's events into its outcome;
- ``measures`` and ``reports``: the figures, computed in SQL, and their published definitions
  (published in the README, « Statistiques : définitions publiées »);
- ``abandoned``, ``monthly``, ``itsm``, ``csv_imports``, ``export``: abandoned calls to ring
  back, the monthly table with history, ITSM tickets (Matrix42, CSV), CSV/XLSX output;
- ``commands``: ``svi-acd stats …``.
"""
