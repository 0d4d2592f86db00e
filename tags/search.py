"""The search box: `key:value` tag terms (values may be "quoted"), and free text over the title.

release:1.4.2 level:error "connection refused" browser:"Chrome 120"
"""

import re
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from tags.models import EventTag, IssueTag

_TOKEN = re.compile(r'(?:([\w.\-]+):(?:"([^"]*)"|(\S+)))|"([^"]*)"|(\S+)')


@dataclass
class Query:
    terms: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.terms or self.text)


def parse_query(query: str) -> Query:
    result = Query()
    words = []
    for key, quoted_value, value, quoted_text, word in _TOKEN.findall(query or ""):
        if key:
            result.terms.append((key, quoted_value if quoted_value or value == "" else value))
        elif quoted_text:
            words.append(quoted_text)
        elif word:
            words.append(word)
    result.text = " ".join(words).strip()
    return result


def filter_issues(issues: QuerySet, query: Query) -> QuerySet:
    for key, value in query.terms:
        issues = issues.filter(id__in=IssueTag.objects.filter(value__key=key, value__value=value).values("issue_id"))
    if query.text:
        issues = issues.filter(
            Q(calculated_type__icontains=query.text)
            | Q(calculated_value__icontains=query.text)
            | Q(culprit__icontains=query.text)
        )
    return issues


def filter_events(events: QuerySet, query: Query) -> QuerySet:
    for key, value in query.terms:
        events = events.filter(id__in=EventTag.objects.filter(value__key=key, value__value=value).values("event_id"))
    if query.text:
        events = events.filter(Q(calculated_type__icontains=query.text) | Q(calculated_value__icontains=query.text))
    return events
