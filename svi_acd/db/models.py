"""Imports every module that declares tables, so that metadata and migrations see them all."""

from svi_acd.accounts import tables as account_tables  # noqa: F401
from svi_acd.audit import tables as audit_tables  # noqa: F401
from svi_acd.directory import store  # noqa: F401
from svi_acd.prompts import crisis_tables  # noqa: F401
from svi_acd.stats import tables  # noqa: F401
