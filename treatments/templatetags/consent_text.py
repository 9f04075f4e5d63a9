from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def consent_html(text):
    """Render consent text: blank lines separate sections, a section's first
    line is its heading (when more lines follow), '- ' lines are bullets.
    Everything is escaped; the markup comes only from this function."""
    html = []
    for block in (text or "").replace("\r\n", "\n").split("\n\n"):
        lines = [line.strip() for line in block.strip().split("\n") if line.strip()]
        if not lines:
            continue
        if len(lines) > 1 and not lines[0].startswith("- "):
            html.append(f'<h3 class="h6 mt-3">{escape(lines[0])}</h3>')
            lines = lines[1:]
        bullets = []
        for line in lines:
            if line.startswith("- "):
                bullets.append(f"<li>{escape(line[2:])}</li>")
                continue
            if bullets:
                html.append("<ul>" + "".join(bullets) + "</ul>")
                bullets = []
            html.append(f"<p>{escape(line)}</p>")
        if bullets:
            html.append("<ul>" + "".join(bullets) + "</ul>")
    # Safe: every piece of text is escaped above; only our own tags are added.
    return mark_safe("".join(html))  # nosec B308
