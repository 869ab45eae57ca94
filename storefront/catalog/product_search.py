"""How products are found by words: the weighted text-search document and the typo match on titles.

The same expressions build the GIN indexes (models.Product.Meta) and the search selector's WHERE clauses,
so PostgreSQL matches the query to the index (an index on an expression is used only for that expression).
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.lookups import TrigramWordSimilar
from django.contrib.postgres.search import (
    SearchQuery,
    SearchRank,
    SearchVectorExact,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.db.models import F, Func, Value
from django.db.models.expressions import Combinable

# One text-search configuration for documents and queries alike: stems "loaves" and "loaf" together.
SEARCH_CONFIG = "english"
# word_similarity() above which a title word counts as a misspelling of the query (pg_trgm's own
# default, 0.6, misses a dropped letter in a short word: "sourdugh" ~ "Sourdough" is 0.58).
TYPO_SIMILARITY = 0.4


class ProductDocument(Func):
    """Title (weight A), tags (B) and description (C) of a product as one tsvector.

    Every function in it is IMMUTABLE, as an index expression must be: tags go through
    array_to_tsvector()::text (array_to_string() is only STABLE) and are then parsed like prose, so a
    tag "cakes" is found by "cake" and "gluten free" by "gluten".
    """

    output_field = SearchVectorField()

    def __init__(self) -> None:
        super().__init__(F("title"), F("tags"), F("description"))

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        title, tags, description = (compiler.compile(part) for part in self.get_source_expressions())
        config = f"'{SEARCH_CONFIG}'::regconfig"
        sql = (
            f"(setweight(to_tsvector({config}, {title[0]}), 'A')"
            f" || setweight(to_tsvector({config}, array_to_tsvector({tags[0]}::text[])::text), 'B')"
            f" || setweight(to_tsvector({config}, {description[0]}), 'C'))"
        )
        return sql, [*title[1], *tags[1], *description[1]]


def words_query(text: str) -> SearchQuery:
    """The buyer's words as websearch_to_tsquery reads them: `"exact phrase"`, `or`, `-without`."""
    return SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)


def matches_words(text: str) -> SearchVectorExact:
    """document @@ websearch_to_tsquery(text): answered by the product_document_gin index."""
    return SearchVectorExact(ProductDocument(), words_query(text))


def words_rank(text: str) -> Combinable:
    """ts_rank of the document: title words count most, then tags, then the description."""
    return SearchRank(ProductDocument(), words_query(text))


def title_resembles(text: str) -> TrigramWordSimilar:
    """title %> text: some run of words in the title is spelt like `text` (product_title_trgm index).

    The threshold is pg_trgm.word_similarity_threshold, set to TYPO_SIMILARITY by the selector.
    """
    return TrigramWordSimilar(F("title"), Value(text))


def title_resemblance(text: str) -> TrigramWordSimilarity:
    return TrigramWordSimilarity(text, F("title"))
