"""All tables. Each area keeps its own module; importing this package registers every table on the metadata."""

from sqlmodel import SQLModel

from monitor.store.models.core import (
    BudgetYear,
    Contact,
    Department,
    ImportRun,
    Indicator,
    Project,
)

metadata = SQLModel.metadata

__all__ = [
    "BudgetYear",
    "Contact",
    "Department",
    "ImportRun",
    "Indicator",
    "Project",
    "metadata",
]
