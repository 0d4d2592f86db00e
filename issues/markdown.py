"""Comments as a safe subset of Markdown: paragraphs, emphasis, inline code, code blocks, links, bare URLs made links,
lists and quotes. Nothing else.

markdown-it-py (CommonMark) with raw HTML switched off, so `<script>` is text; images, headings, rules and tables
are switched off too, so they stay the text that was typed. A link is kept only when its target is an http, https
or mailto URL (a `javascript:`, `data:` or relative target leaves the text as typed), and it gets rel="noopener
noreferrer nofollow" as every link to a URL someone supplied (bugsink.templatetags.bugsink.external_link). Each block
is `dir="auto"` and each link's text a `<bdi>`, so that a direction control in a comment cannot reverse the page
around it (bugsink.bidi).
"""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

ALLOWED_SCHEMES = ("http:", "https:", "mailto:")
# the CommonMark rules this subset does without
DISABLED_RULES = ["image", "heading", "lheading", "hr", "html_block", "html_inline"]
BLOCKS_WITH_DIRECTION = ("paragraph_open", "blockquote_open", "bullet_list_open", "ordered_list_open")
# a comment longer than this is shown as plain text (Markdown's nesting costs grow with odd inputs)
MAX_MARKDOWN_CHARS = 100_000


def _valid_link(url: str) -> bool:
    return url.strip().lower().startswith(ALLOWED_SCHEMES)


def _link_open(self, tokens, idx, options, env):
    token = tokens[idx]
    token.attrSet("rel", "noopener noreferrer nofollow")
    return self.renderToken(tokens, idx, options, env) + "<bdi>"


def _link_close(self, tokens, idx, options, env):
    return "</bdi>" + self.renderToken(tokens, idx, options, env)


def _with_direction(self, tokens, idx, options, env):
    tokens[idx].attrSet("dir", "auto")
    return self.renderToken(tokens, idx, options, env)


def _parser() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark", {"html": False, "linkify": True, "typographer": False, "breaks": True, "xhtmlOut": False}
    )
    md.enable("linkify")
    md.disable(DISABLED_RULES)
    md.validateLink = _valid_link
    md.add_render_rule("link_open", _link_open)
    md.add_render_rule("link_close", _link_close)
    for rule in BLOCKS_WITH_DIRECTION:
        md.add_render_rule(rule, _with_direction)
    return md


_MARKDOWN = _parser()


def render_comment(text: str) -> SafeString:
    """A comment's text as HTML that is safe to put in a page."""
    text = text or ""
    if len(text) > MAX_MARKDOWN_CHARS:
        return mark_safe(f'<p dir="auto" class="comment-plain">{escape(text)}</p>')
    return mark_safe(_MARKDOWN.render(text))
