"""ISO 4217 currencies a price may be in, and how many minor units each has (pure, no Django)."""

from __future__ import annotations

# Circulating currencies (ISO 4217, 2025). Fund codes (BOV, CHE, CHW, CLF, COU, MXV, USN, UYI, UYW),
# metals and testing codes are left out: nobody prices a loaf in them.
_TWO_DECIMAL = frozenset(
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF "
    "CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL "
    "HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP "
    "MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD "
    "SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS "
    "VES VED WST XCD XCG YER ZAR ZMW ZWG".split()
)
_ZERO_DECIMAL = frozenset("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split())
_THREE_DECIMAL = frozenset("BHD IQD JOD KWD LYD OMR TND".split())

CURRENCIES: frozenset[str] = _TWO_DECIMAL | _ZERO_DECIMAL | _THREE_DECIMAL
DEFAULT_CURRENCY = "GBP"


def is_currency(code: str) -> bool:
    return code in CURRENCIES


def minor_unit_exponent(code: str) -> int:
    """Digits after the decimal point: 2 for GBP (pence), 0 for JPY, 3 for KWD (fils)."""
    if code in _ZERO_DECIMAL:
        return 0
    if code in _THREE_DECIMAL:
        return 3
    return 2
