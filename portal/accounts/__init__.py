"""Accounts: sign-up, verification, password reset, profile, invitations, deactivation.

operations -- the writes (each a unit of work) and the few reads they need
passwords  -- the one password policy
tokens     -- signed, time-limited, single-use links (itsdangerous)
sign_ins   -- sign-ins, ended by signing out (here or everywhere)

Views, CLI commands and tests call these; none of them writes an account rule of its own.
Account email goes through the notifications outbox (`outbox.notify`, in the caller's
transaction) like every other message; the worker renders and sends it.
"""

from .operations import (
    accept_invitation,
    change_password,
    confirm_email_change,
    create_user,
    deactivate_user,
    email_change,
    email_restore,
    find_client,
    find_user_by_email,
    invitation_user,
    invite_user,
    list_users,
    normalize_email,
    password_matches,
    practitioners,
    reactivate_user,
    request_email_change,
    request_password_reset,
    resend_invitation,
    resend_verification,
    reset_password,
    reset_user,
    restore_email,
    sign_up,
    update_profile,
    verification_user,
    verify_email,
)
from .passwords import password_problem
from .sign_ins import record_sign_in, sign_out, sign_out_everywhere, signed_in_user
from .tokens import BadLink, LinkProblem

__all__ = [
    "BadLink",
    "LinkProblem",
    "accept_invitation",
    "change_password",
    "confirm_email_change",
    "create_user",
    "deactivate_user",
    "email_change",
    "find_client",
    "find_user_by_email",
    "invitation_user",
    "invite_user",
    "list_users",
    "normalize_email",
    "password_matches",
    "password_problem",
    "record_sign_in",
    "sign_out",
    "sign_out_everywhere",
    "signed_in_user",
    "practitioners",
    "reactivate_user",
    "request_email_change",
    "request_password_reset",
    "resend_invitation",
    "resend_verification",
    "reset_password",
    "reset_user",
    "restore_email",
    "email_restore",
    "sign_up",
    "update_profile",
    "verification_user",
    "verify_email",
]
