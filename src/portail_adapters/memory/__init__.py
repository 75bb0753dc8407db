"""In-memory fakes of every port, for the domain's tests and for embedders' own tests.

They keep the same promises as the real adapters (a unit of work rolls back unless
committed, keys are unique, lists come back in the documented order), so use cases run
end to end on them.
"""

from .ports import (
    FakeGateway,
    FixedClock,
    MemoryFileStore,
    MemoryMailer,
    PlainBankDirectory,
    PlainComposer,
    PlainLinks,
    PlainPasswordHasher,
    PlainPrinter,
    SequenceSecrets,
)
from .repositories import MemoryDatabase, MemoryUnitOfWork

__all__ = [
    "FakeGateway",
    "FixedClock",
    "MemoryDatabase",
    "MemoryFileStore",
    "MemoryMailer",
    "MemoryUnitOfWork",
    "PlainBankDirectory",
    "PlainComposer",
    "PlainLinks",
    "PlainPasswordHasher",
    "PlainPrinter",
    "SequenceSecrets",
]
