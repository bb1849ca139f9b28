"""The data part of a custom queue_log line, however it is written (AGI, AMI, dialplan).

queue_log separates a line's fields with ``|``; ``QueueLog()`` separates its arguments with
``,``. A value that contained either would shift the fields that statistics read.
"""

from __future__ import annotations

import re


def queue_log_field(text: str) -> str:
    return re.sub(r"[|,\r\n]", " ", text)


def queue_log_data(*fields: str) -> str:
    """The ``data1|data2|…`` column of a line."""
    return "|".join(map(queue_log_field, fields))
