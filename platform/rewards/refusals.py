"""Why a redemption was refused, in words a member understands: the wallet's page and the
chat bot say the same thing for each service error code (translated where shown)."""

from __future__ import annotations

from loyalchat.i18n import N_

REDEEM_ERRORS = {
    "insufficient_points": N_("You do not have enough points for this reward yet."),
    "out_of_stock": N_("Sorry, this reward has just run out."),
    "limit_reached": N_("You have already redeemed this reward as many times as allowed."),
    "reward_unavailable": N_("This reward is not available at the moment."),
    "not_found": N_("This reward is no longer in the catalogue."),
    "idempotency_conflict": N_("This form was already used. Please start again."),
}
# Any other refusal or failure.
REDEEM_FAILED = N_("The reward could not be redeemed. Please try again.")
