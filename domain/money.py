"""Money in integer minor units. Division rounds half-up, exactly, with integers only.

A currency's exponent says how many of its minor units make one major unit: 100 cents a
dollar, but the yen has no minor unit (¥10,000 is 10000 minor units) and the Kuwaiti dinar
has 1,000 fils. Every amount shown anywhere (pages, API text, CLI) goes through
`format_money`, the one place that knows the exponents, as Stripe counts them.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.errors import UnknownCurrency

# Stripe's zero-decimal currencies (its "minor unit" is the major unit).
ZERO_DECIMAL = frozenset(
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga",
        "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    }
)  # fmt: skip
# Stripe's three-decimal currencies.
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
# Stripe's two-decimal currencies (its list of presentment currencies, less the above).
TWO_DECIMAL = frozenset(
    {
        "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd",
        "bdt", "bgn", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad", "cdf",
        "chf", "cny", "cop", "crc", "cve", "czk", "dkk", "dop", "dzd", "egp", "etb", "eur",
        "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gtq", "gyd", "hkd", "hnl", "htg", "huf",
        "idr", "ils", "inr", "isk", "jmd", "kes", "kgs", "khr", "kyd", "kzt", "lak", "lbp",
        "lkr", "lrd", "lsl", "mad", "mdl", "mkd", "mmk", "mnt", "mop", "mur", "mvr", "mwk",
        "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok", "npr", "nzd", "pab", "pen", "pgk",
        "php", "pkr", "pln", "qar", "ron", "rsd", "rub", "sar", "sbd", "scr", "sek", "sgd",
        "shp", "sle", "sos", "srd", "std", "szl", "thb", "tjs", "top", "try", "ttd", "twd",
        "tzs", "uah", "usd", "uyu", "uzs", "wst", "xcd", "yer", "zar", "zmw",
    }
)  # fmt: skip
# Stripe refuses an amount above eight digits of minor units (999,999.99 USD, 99,999,999 JPY).
STRIPE_MAX_AMOUNT = 99_999_999
# Currencies whose largest amount Stripe states differently (none known to seatflow yet).
STRIPE_MAX_AMOUNT_BY_CURRENCY: dict[str, int] = {}


def div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, for non-negative results."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator < 0:
        return -div_half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def exponent(currency: str) -> int:
    """How many decimal places the currency's minor unit has: 0, 2 or 3. A currency Stripe's
    lists do not name raises UnknownCurrency: an amount is never read by a guessed exponent."""
    code = currency.lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    if code in TWO_DECIMAL:
        return 2
    raise UnknownCurrency(f"currency {currency!r}: its minor unit is not known to seatflow")


def max_amount(currency: str) -> int:
    """The largest amount, in minor units, that Stripe accepts in one charge."""
    return STRIPE_MAX_AMOUNT_BY_CURRENCY.get(currency.lower(), STRIPE_MAX_AMOUNT)


def format_amount(amount: int, currency: str, *, signed: bool = False) -> str:
    """The number alone, by the currency's exponent: 10000 JPY → "10,000", 9048 USD →
    "90.48", 1500 KWD → "1.500"; `signed` puts "+" before amounts above zero."""
    digits = exponent(currency)
    sign = "-" if amount < 0 else ("+" if signed and amount > 0 else "")
    whole, minor = divmod(abs(amount), 10**digits)
    return f"{sign}{whole:,}" + (f".{minor:0{digits}d}" if digits else "")


def format_money(amount: int, currency: str, *, signed: bool = False) -> str:
    """An amount of minor units as people read it: "10,000 JPY", "90.48 USD"."""
    return f"{format_amount(amount, currency, signed=signed)} {currency.upper()}".rstrip()


@dataclass(frozen=True, order=True)
class Money:
    amount: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError("Money.amount must be an int of minor units")
        object.__setattr__(self, "currency", self.currency.lower())

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)
