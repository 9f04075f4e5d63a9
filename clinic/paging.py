"""Paging through long lists without counting them.

Django's Paginator runs COUNT(*) over the whole list for "page 3 of N": at
200,000 patients that count cost more than the rest of the page together
(docs/BENCHMARKS.md), and the audit log grows without end. A Window reads one
row more than it shows, which is enough to know whether there is a next page.
"""

from urllib.parse import urlencode

from django import forms

from clinic.params import PageField


class PageQuery(forms.Form):
    page = PageField()


class Window:
    def __init__(self, queryset, request, *, per_page):
        # Past MAX_PAGE, or not a number: the first page (an OFFSET of 10^20
        # would be a database error, not a page).
        query = PageQuery(request.GET)
        self.number = (query.cleaned_data["page"] if query.is_valid() else None) or 1
        start = (self.number - 1) * per_page
        rows = list(queryset[start : start + per_page + 1])
        if not rows and self.number > 1:  # past the end (an old link): the first page
            self.number, start = 1, 0
            rows = list(queryset[: per_page + 1])
        self.object_list = rows[:per_page]
        self.has_next = len(rows) > per_page
        self.has_previous = self.number > 1
        self.has_other_pages = self.has_next or self.has_previous
        self._params = {k: v for k, v in request.GET.items() if k != "page"}

    def _url(self, number):
        return "?" + urlencode({**self._params, "page": number})

    @property
    def previous_url(self):
        return self._url(self.number - 1)

    @property
    def next_url(self):
        return self._url(self.number + 1)
