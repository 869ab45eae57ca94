"""What buyers are told about a product's stock: in stock, only a few left, or sold out. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass

# At or below this many, the page says how many are left, so a buyer knows to hurry.
LOW_STOCK = 5


@dataclass(frozen=True)
class StockState:
    code: str  # "in_stock", "low" or "sold_out": a CSS class and a test hook
    label: str

    @property
    def can_buy(self) -> bool:
        return self.code != "sold_out"


def stock_state(stock: int) -> StockState:
    if stock <= 0:
        return StockState("sold_out", "Sold out")
    if stock <= LOW_STOCK:
        return StockState("low", f"Only {stock} left")
    return StockState("in_stock", "In stock")
