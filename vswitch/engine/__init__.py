"""The backend-agnostic transaction engine."""

from vswitch.engine.engine import Engine, Failure, UnknownKind
from vswitch.engine.history import History, Operation, Transaction
from vswitch.engine.item import Handler, Item, UpdatingHandler

__all__ = ["Engine", "Failure", "Handler", "History", "Item", "Operation", "Transaction", "UnknownKind",
           "UpdatingHandler"]
