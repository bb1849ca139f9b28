"""The audit journal: who changed what outside the crisis messages (VIP directory, accounts,
the ACD's supervisor actions), one append-only row per change.

``tables`` declares the table (the migration refuses UPDATE and DELETE on it), ``store``
writes a row and reads them back filtered, ``background`` writes without making a caller wait
(the ACD journals from synchronous code).
"""

SYSTEM_ACTOR = "système"  # who acts when no person does (automatic pause, scheduled forgetting)
