"""When a login needs a second factor: pure rules, no ORM."""

from enum import StrEnum


class SecondFactor(StrEnum):
    NONE = "none"  # nothing more to ask
    VERIFY = "verify"  # ask for a code from the app (or a recovery code)
    ENROL = "enrol"  # required, but no app set up yet: set one up first


def second_factor_required(*, staff_member: bool, marked: bool, all_staff: bool, admin: bool):
    """The admin always needs it; so does anyone a manager marked, and every
    staff member when the clinic requires it for all. Patients may opt in."""
    return admin or marked or (all_staff and staff_member)


def second_factor_step(*, required: bool, enrolled: bool, verified: bool) -> SecondFactor:
    """Whoever has set up an app is asked for a code at every login, required
    or not (a patient who opted in is protected too)."""
    if verified:
        return SecondFactor.NONE
    if enrolled:
        return SecondFactor.VERIFY
    if required:
        return SecondFactor.ENROL
    return SecondFactor.NONE
