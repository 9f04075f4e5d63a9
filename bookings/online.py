"""Which free times a patient is offered online: those the clinic's
online-booking settings allow (no sooner than the least notice, no later
than the days ahead) and that leave the recommended pre-care window. The
engine's online policy refuses anything else posted by hand."""

from datetime import timedelta

from django.utils import timezone

from clinic.models import OnlineBookingSettings


def offered_online(slots, *, recommended_date, now, policy=None):
    policy = policy or OnlineBookingSettings.current()
    latest = timezone.localdate(now) + timedelta(days=policy.days_ahead)
    soonest = (now + timedelta(hours=policy.min_notice_hours)).timestamp()
    return [
        slot
        for slot in slots
        if slot.start_ts >= soonest and recommended_date <= slot.local_start.date() <= latest
    ]
