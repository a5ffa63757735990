"""The customer model's vocabulary without numpy: its errors and the RFM segment rules (names, what they mean).

The API's customer routes name segments and catch these errors at import; the numpy model
(luxebrain.ml.customers.serving) is loaded when a request first reads a tenant's scores.
"""

from __future__ import annotations


class CustomerModelError(ValueError):
    """Bad input to the customer model (a column, a value or a parameter); the message names it."""


class UnknownCustomerError(CustomerModelError):
    """The customer id is not in this tenant's customer model (never ordered, or ordered after training)."""


class UnknownSegmentError(CustomerModelError):
    """The segment name is not one of ``SEGMENT_NAMES``."""


# --- RFM segments ------------------------------------------------------------------------------------
# Each customer gets R, F and M scores from 1 to 5 (store-relative quintiles: R from days since the last
# order, fewer days = 5; F from the number of orders; M from total revenue). FM = round((F + M) / 2).
# The segment is the first row below whose R range and FM range both contain the customer's scores.
# The 25 (R, FM) cells map as:
#
#        FM=1            FM=2               FM=3                FM=4              FM=5
#   R=5  New             Potential loyal.   Potential loyal.    Champions         Champions
#   R=4  Promising       Potential loyal.   Potential loyal.    Loyal             Champions
#   R=3  About to sleep  About to sleep     Need attention      Loyal             Loyal
#   R=2  Hibernating     Hibernating        At risk             At risk           Can't lose them
#   R=1  Lost            Lost               At risk             At risk           Can't lose them
SEGMENT_RULES: tuple[tuple[str, tuple[int, int], tuple[int, int], str], ...] = (
    # (name, (R min, R max), (FM min, FM max), what it means for a merchant)
    ("Champions", (5, 5), (4, 5), "Bought recently, buy often and spend the most"),
    ("Champions", (4, 4), (5, 5), "Bought recently, buy often and spend the most"),
    ("Loyal", (3, 4), (4, 5), "Buy regularly and spend well; respond to loyalty offers"),
    ("Potential loyalists", (4, 5), (2, 3), "Recent customers with average frequency and spend"),
    ("New", (5, 5), (1, 1), "Bought for the first time very recently"),
    ("Promising", (4, 4), (1, 1), "Recent shoppers who have not spent much yet"),
    ("Need attention", (3, 3), (3, 3), "Average recency, frequency and spend; slipping"),
    ("About to sleep", (3, 3), (1, 2), "Below-average recency and frequency; lose them without a nudge"),
    ("Can't lose them", (1, 2), (5, 5), "Used to buy the most and the most often, but not for a long time"),
    ("At risk", (1, 2), (3, 4), "Spent well and often, long ago; win them back"),
    ("Hibernating", (2, 2), (1, 2), "Last order long ago, few orders, low spend"),
    ("Lost", (1, 1), (1, 2), "Lowest recency, frequency and spend"),
)
SEGMENT_NAMES: tuple[str, ...] = tuple(dict.fromkeys(rule[0] for rule in SEGMENT_RULES))
SEGMENT_DESCRIPTIONS: dict[str, str] = {rule[0]: rule[3] for rule in SEGMENT_RULES}
NO_SEGMENT = -1  # "not a customer in the previous run"
