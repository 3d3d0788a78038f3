"""Row ids in URLs: whole numbers a database can hold.

Werkzeug's `int` takes any length of digits, and a 23-digit answer id made
the database driver raise OverflowError (a 500). `row_id` matches only what
fits a signed 64-bit column, so anything longer is simply not found (404).
"""

from werkzeug.routing import IntegerConverter

LARGEST_ROW_ID = 2**63 - 1


class RowIdConverter(IntegerConverter):
    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=LARGEST_ROW_ID)
