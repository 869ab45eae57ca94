"""The catalog's CSV format and field rules: pure functions, property-tested (no database)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from storefront.catalog import product_csv
from storefront.catalog import product_rules as rules
from storefront.catalog.currencies import CURRENCIES, minor_unit_exponent

FULL_HEADER = product_csv.read_header(list(product_csv.COLUMNS))
# What a spreadsheet runs as a formula when a cell starts with it (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Text a merchant might type: any printable characters, quotes, commas and line breaks included.
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00") | st.sampled_from("\n\t,\"'")
)
skus = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,40}", fullmatch=True)
slugs = st.from_regex(r"[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,2}", fullmatch=True)
tag_words = st.from_regex(r"[a-z0-9=+@-][a-z0-9 &'=+@-]{0,20}[a-z0-9]", fullmatch=True)
tag_words = tag_words.map(lambda t: " ".join(t.split()))
products = st.builds(
    product_csv.ProductRow,
    sku=skus,
    title=text.map(str.strip).filter(lambda t: 0 < len(t) <= rules.TITLE_MAX),
    price=st.integers(min_value=0, max_value=rules.PRICE_MAX),
    description=text.map(str.strip).filter(lambda t: len(t) <= rules.DESCRIPTION_MAX),
    currency=st.sampled_from(sorted(CURRENCIES)),
    stock=st.integers(min_value=0, max_value=rules.STOCK_MAX),
    status=st.sampled_from(rules.STATUSES),
    category=st.one_of(st.just(""), slugs),
    tags=st.lists(tag_words, max_size=rules.TAGS_MAX, unique=True).map(tuple),
)


def through_csv(rows: list[list[str]]) -> list[list[str]]:
    """Write rows as a CSV file and read them back, as an export and a later import would."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return list(csv.reader(io.StringIO(buffer.getvalue())))


@given(products)
def test_an_exported_product_imports_back_unchanged(product):
    [cells] = through_csv([product_csv.format_row(product)])

    assert product_csv.parse_row(FULL_HEADER, cells) == product


@given(st.lists(text, min_size=9, max_size=9))
def test_any_row_either_parses_or_is_refused_with_messages(cells):
    try:
        row = product_csv.parse_row(FULL_HEADER, cells)
    except product_csv.RowInvalid as error:
        assert error.messages
        assert all(message.split(":")[0] in product_csv.COLUMNS for message in error.messages)
    else:
        assert row.price >= 0 and row.stock >= 0 and row.currency in CURRENCIES and row.status in rules.STATUSES


@given(products)
def test_no_exported_text_cell_starts_a_spreadsheet_formula(product):
    cells = product_csv.format_row(product)

    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)


def outcome(cells: list[str]) -> product_csv.ProductRow | list[str]:
    try:
        return product_csv.parse_row(FULL_HEADER, cells)
    except product_csv.RowInvalid as error:
        return error.messages


@given(
    st.lists(text | st.sampled_from(["=1+1", "+450", "-5", "@SUM(A1)", "\t=1", "\r'=1", "'=1"]), min_size=9, max_size=9)
)
def test_no_error_report_cell_starts_a_formula_and_a_report_imports_as_the_uploaded_row_did(cells):
    report = product_csv.format_report_row(cells, 7, "; ".join(cells))

    assert not any(cell.startswith(FORMULA_STARTS) for cell in report)
    [echoed] = through_csv([report[:9]])
    assert outcome(echoed) == outcome(cells)


@given(st.integers(max_value=-1))
def test_a_negative_price_is_refused(price):
    with pytest.raises(rules.FieldInvalid, match="negative"):
        rules.clean_price(str(price))


@pytest.mark.parametrize("price", ["4.50", "4,50", "£4", "", "1e3", "twelve"])
def test_a_price_that_is_not_whole_minor_units_is_refused(price):
    with pytest.raises(rules.FieldInvalid, match="whole number"):
        rules.clean_price(price)


@given(st.lists(st.text(max_size=12), max_size=30))
def test_tags_are_normalised_idempotently(values):
    try:
        tags = rules.clean_tags(values)
    except rules.FieldInvalid:
        return
    assert rules.clean_tags(tags) == tags
    assert all(tag == tag.lower().strip() and tag for tag in tags)
    assert len(set(tags)) == len(tags)


@pytest.mark.parametrize("code", ["gbp", " EUR ", "JPY"])
def test_currency_codes_are_iso_4217_in_any_case(code):
    assert rules.clean_currency(code) == code.strip().upper()


@pytest.mark.parametrize("code", ["XYZ", "GB", "EURO", "£"])
def test_a_code_that_is_not_a_currency_is_refused(code):
    with pytest.raises(rules.FieldInvalid, match="ISO 4217"):
        rules.clean_currency(code)


def test_minor_units_follow_iso_4217():
    assert (minor_unit_exponent("GBP"), minor_unit_exponent("JPY"), minor_unit_exponent("KWD")) == (2, 0, 3)


def test_a_row_reports_every_problem_at_once():
    cells = ["", "", "", "-5", "XYZ", "lots", "sold", "Not A Slug", ""]

    with pytest.raises(product_csv.RowInvalid) as refused:
        product_csv.parse_row(FULL_HEADER, cells)

    assert [m.split(":")[0] for m in refused.value.messages] == [
        "sku",
        "title",
        "price",
        "currency",
        "stock",
        "status",
        "category",
    ]


def test_a_row_of_the_wrong_length_is_refused():
    with pytest.raises(product_csv.RowInvalid, match="3 values but the header has 9"):
        product_csv.parse_row(FULL_HEADER, ["A-1", "Jam", "300"])


def test_only_sku_title_and_price_are_required_and_the_rest_default():
    header = product_csv.read_header([" SKU", "Title ", "\ufeffprice"])

    row = product_csv.parse_row(header, ["A-1", "Jam", "300"])

    assert header.present == ("sku", "title", "price")
    assert row == product_csv.ProductRow(sku="A-1", title="Jam", price=300)
    assert (row.currency, row.stock, row.status, row.tags) == ("GBP", 0, "draft", ())


@pytest.mark.parametrize(
    ("cells", "problem"),
    [
        (["sku", "title"], "Missing required column(s): price"),
        (["sku", "title", "price", "prce"], "Unknown column(s) 'prce'"),
        (["sku", "title", "price", "sku"], "more than once: sku"),
        ([], "Missing required column(s): sku, title, price"),
    ],
)
def test_a_bad_header_is_refused_with_a_reason(cells, problem):
    with pytest.raises(product_csv.HeaderInvalid) as refused:
        product_csv.read_header(cells)

    assert problem in str(refused.value)


def test_an_error_reports_extra_columns_are_ignored_so_it_can_be_reimported():
    header = product_csv.read_header(["sku", "title", "price", "row", "error"])

    row = product_csv.parse_row(header, ["A-1", "Jam", "300", "7", "price: Price cannot be negative."])

    assert row.price == 300


def test_blank_rows_are_skipped_but_keep_their_spreadsheet_numbers():
    rows = [["A-1", "Jam", "1"], ["", " ", ""], ["A-2", "Honey", "2"]]

    assert [number for number, _ in product_csv.records(rows)] == [2, 4]


@pytest.mark.parametrize("value", ["Jam\x00", "Jam\x07", "Jam\ud800"])
def test_text_postgres_cannot_store_is_refused(value):
    with pytest.raises(rules.FieldInvalid, match="control characters"):
        rules.clean_title(value)
