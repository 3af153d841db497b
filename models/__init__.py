"""SQLAlchemy 2.x typed models, one module per aggregate."""

from models.address import ResidentAddress
from models.butler import BindingStatus, ButlerBinding, ButlerCode
from models.catalogue import ChecklistItem, ChecklistKind, ServiceType
from models.community import Community, CommunityBinding, CommunityStatus
from models.community_life import (
    Activity,
    ActivityCommunity,
    ActivitySignup,
    ActivityStatus,
    Answer,
    ModerationStatus,
    Question,
    SignupStatus,
)
from models.coupon import CampaignStatus, Coupon, CouponCampaign, CouponRewardRule, CouponStatus
from models.delivery import (
    Broadcast,
    Delivery,
    DeliveryStatus,
    NotificationOptOut,
    RuntimeFlag,
    SubscriptionCredit,
    SubscriptionPrompt,
)
from models.follow_up import FollowUp, FollowUpStatus
from models.kpi import CommunityMonthKpi, CommunityMonthResident, EngineerMonthKpi
from models.notification import InboxNotification
from models.order import (
    Acceptance,
    DispatchOffer,
    OfferStatus,
    OrderEvent,
    OrderStatus,
    Review,
    ReviewStatus,
    ServiceOrder,
    SlaState,
    SlaStep,
)
from models.people import Engineer, EngineerSkill, Resident, StaffUser
from models.points import PointsEntry
from models.reputation import EngineerCommunity, EngineerLike
from models.sla import SlaBreach
from models.staff_alert import StaffAlert, StaffAlertKind, StaffAlertRead
from models.upload import Upload
from models.visit import Booking, BookingStatus, Visit, VisitSlot, VisitStatus
from service_hub.plumbing.outbox import OutboxMessage  # plumbing: the outbox owns its table

__all__ = [
    "Acceptance",
    "ChecklistItem",
    "ChecklistKind",
    "BindingStatus",
    "EngineerMonthKpi",
    "ResidentAddress",
    "SlaState",
    "SlaStep",
    "SlaBreach",
    "StaffAlert",
    "StaffAlertKind",
    "StaffAlertRead",
    "CommunityStatus",
    "ActivityStatus",
    "ModerationStatus",
    "SignupStatus",
    "CampaignStatus",
    "CouponStatus",
    "DeliveryStatus",
    "FollowUpStatus",
    "OfferStatus",
    "ReviewStatus",
    "BookingStatus",
    "VisitStatus",
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
