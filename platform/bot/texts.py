"""Every text the bot says, marked for the Babel catalogues, and :func:`say` to put one in
a member's language.

The catalogues are the programme's (``loyalchat.i18n``: ``platform/locale``); the bot
translates with an explicit locale, never a request's. Refusals of a redemption reuse the
wallet's wording (the same msgids, so the same translations).
"""

from __future__ import annotations

from loyalchat.i18n import N_, say  # noqa: F401 - the bot's texts are said through it
from loyalchat.rewards import refusals

# Joining and the shop.
WELCOME = N_("Welcome! You are member %(member_no)s of %(shop)s.")
WELCOME_BACK = N_("Welcome back! You are member %(member_no)s of %(shop)s.")
HELP_HINT = N_('Send "points" for your card, "rewards" to redeem, or "menu" for more.')
PAUSED = N_("%(shop)s's membership programme is paused for now. Please try again later.")
UNSUPPORTED = N_("Sorry, I can only read text messages and photos.")
RECEIPT_HOLD = N_("Thanks, we received your receipt photo. It will be checked soon.")
PHOTO_LOST = N_("Sorry, your photo did not come through. Please send it again.")
DEFAULT = N_('Sorry, I did not understand. Send "menu" to see what I can do.')

# Language.
LANGUAGE_SET = N_("OK, I will answer in English.")
LANGUAGE_ASK = N_("Which language would you like?")

# Rewards.
REWARDS_HEADER = N_("You have %(points)s points. Rewards you can redeem:")
REWARDS_NONE = N_("You have %(points)s points. No reward can be redeemed with them yet.")
REWARDS_EMPTY = N_("There are no rewards to redeem at the moment.")
REWARD_COST = N_("%(cost)s points")
PICK_NUMBER = N_("Reply with a number to choose.")
SEE_ALL = N_("See them all in your wallet")  # a link, after a list cut to fit a message
CONFIRM = N_("Redeem %(name)s for %(cost)s points? You will have %(after)s points left.")
YES = N_("Yes")
NO = N_("No")
YES_NO_HINT = N_('Reply "yes" to confirm or "no" to cancel.')
CANCELLED = N_("OK, nothing was redeemed.")
EXPIRED = N_('That question has expired. Send "rewards" to choose again.')
REDEEMED = N_("Done! You redeemed %(name)s. You have %(points)s points left.")
COUPON_CODE = N_("Your code: %(code)s. Show it or its QR code at the counter.")
WALLET_LINK = N_("All your rewards: %(url)s")
NO_SUCH_REWARD = N_("This reward is no longer in the catalogue.")
COUPONS_HEADER = N_("Your coupons ready to use:")
COUPONS_NONE = N_("You have no coupons to use at the moment.")
COUPON_LINE = N_("%(name)s: %(code)s")
COUPON_LINE_UNTIL = N_("%(name)s: %(code)s (until %(date)s)")
# Why a redemption was refused: the wallet's wording (loyalchat.rewards.refusals).
REDEEM_ERRORS = refusals.REDEEM_ERRORS
REDEEM_FAILED = refusals.REDEEM_FAILED

# Profile.
ASK_NAME = N_("What is your name?")
ASK_PHONE = N_("Thanks, %(name)s. What is your phone number?")
BAD_NAME = N_("Please send your name in one line (up to 200 characters).")
BAD_PHONE = N_("That does not look like a phone number. Please try again, e.g. %(example)s.")
PROFILE_DONE = N_("Thank you! Your membership is now confirmed.")
PROFILE_LOCKED = N_("Your details are confirmed. To change them, please ask the shop.")

# Broadcasts.
STOPPED = N_('You will no longer receive offers here. Send "START" to receive them again.')
STARTED = N_('You will receive our offers again. Send "STOP" to stop them.')

# Menu entries.
MENU_HEADER = N_("What would you like to do?")
MENU_CARD = N_("My card")
MENU_REWARDS = N_("Rewards")
MENU_COUPONS = N_("My coupons")
MENU_PROFILE = N_("My details")
MENU_LANGUAGE = N_("Language")
