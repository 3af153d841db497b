"""SQLAlchemy 2.x typed models, one module per aggregate."""

from models.butler import ButlerBinding, ButlerCode
from models.catalogue import ServiceType
from models.community import Community, CommunityBinding
from models.community_life import Activity, ActivityCommunity, ActivitySignup, Answer, Question
from models.coupon import Coupon, CouponCampaign, CouponRewardRule
from models.delivery import (
    Broadcast,
    Delivery,
    NotificationOptOut,
    RuntimeFlag,
    SubscriptionCredit,
    SubscriptionPrompt,
)
from models.follow_up import FollowUp
from models.kpi import CommunityMonthKpi, CommunityMonthResident
from models.notification import InboxNotification
from models.order import DispatchOffer, OrderEvent, OrderStatus, Review, ServiceOrder
from models.people import Engineer, EngineerSkill, Resident, StaffUser
from models.points import PointsEntry
from models.reputation import EngineerCommunity, EngineerLike
from models.upload import Upload
from models.visit import Booking, Visit, VisitSlot
from service_hub.outbox import OutboxMessage  # plumbing: the outbox owns its table

__all__ = [
    "Activity",
    "ActivityCommunity",
    "ActivitySignup",
    "Answer",
    "Booking",
    "Broadcast",
    "ButlerBinding",
    "ButlerCode",
    "EngineerLike",
    "FollowUp",
    "PointsEntry",
    "Question",
    "Upload",
    "Community",
    "CommunityBinding",
    "CommunityMonthKpi",
    "CommunityMonthResident",
    "Coupon",
    "CouponCampaign",
    "CouponRewardRule",
    "Delivery",
    "DispatchOffer",
    "Engineer",
    "EngineerCommunity",
    "EngineerSkill",
    "InboxNotification",
    "NotificationOptOut",
    "OrderEvent",
    "OrderStatus",
    "OutboxMessage",
    "Resident",
    "Review",
    "RuntimeFlag",
    "ServiceOrder",
    "ServiceType",
    "StaffUser",
    "SubscriptionCredit",
    "SubscriptionPrompt",
    "Visit",
    "VisitSlot",
]
