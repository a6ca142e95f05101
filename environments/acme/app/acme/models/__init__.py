"""SQLAlchemy ORM models; importing this package registers every table on ``Base.metadata``."""

from acme.models.base import Base, UTCDateTime, utcnow
from acme.models.catalog import Category, Product, Review, SearchDocument
from acme.models.ops import AppSetting, Job, JobStatus
from acme.models.orders import (
    Cart,
    CartItem,
    EmailOutbox,
    Order,
    OrderItem,
    OrderStatus,
    PaymentEvent,
    Refund,
)
from acme.models.users import Session, User

__all__ = [
    "AppSetting",
    "Base",
    "Cart",
    "CartItem",
    "Category",
    "EmailOutbox",
    "Job",
    "JobStatus",
    "Order",
    "OrderItem",
    "OrderStatus",
    "PaymentEvent",
    "Product",
    "Refund",
    "Review",
    "SearchDocument",
    "Session",
    "UTCDateTime",
    "User",
    "utcnow",
]
