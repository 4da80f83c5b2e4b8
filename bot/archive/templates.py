"""The archive's Jinja2 templates, kept in code so the package needs no data files."""

from __future__ import annotations

BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · {{ site_name }}</title>
<meta name="description" content="{{ description }}">
{% if canonical %}<link rel="canonical" href="{{ canonical }}">
<meta property="og:url" content="{{ canonical }}">{% endif %}
<meta property="og:type" content="{{ og_type | default('website') }}">
<meta property="og:title" content="{{ title }}">
<meta property="og:description" content="{{ description }}">
<meta property="og:site_name" content="{{ site_name }}">
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:0 auto;padding:1rem;color:#1d1d1f}
a{color:#0a58ca}header a{text-decoration:none;font-weight:600}
.post{border:1px solid #ddd;border-radius:.5rem;padding:.75rem 1rem;margin:1rem 0}
.accepted{border:2px solid #1a7f37;background:#f0fff4}.badge{color:#1a7f37;font-weight:600}
.who{color:#555;font-size:.9rem}.hidden{color:#777;font-style:italic}
.tag{background:#eef;border-radius:.25rem;padding:0 .3rem}
pre{background:#f6f8fa;padding:.75rem;overflow:auto}code{background:#f6f8fa}
</style>
{% block head %}{% endblock %}
</head>
<body>
<header><a href="{{ root }}index.html">{{ site_name }}</a></header>
<main>
{% block main %}{% endblock %}
</main>
</body>
</html>
"""

THREAD = """{% extends "base.html" %}
{% block head %}<script type="application/ld+json">{{ json_ld | safe }}</script>{% endblock %}
{% block main %}
<article>
<h1>{{ thread.title }}</h1>
<p class="who">Helped {{ thread.helped }} {{ "person" if thread.helped == 1 else "people" }} ·
solved {{ thread.solved_at.strftime("%Y-%m-%d") }} ·
in <a href="{{ root }}c/{{ thread.channel_id }}.html">{{ channel_name }}</a>
{% for tag in thread.tags %}<span class="tag">{{ tag }}</span> {% endfor %}</p>
<section class="post question">
<p class="who">{{ thread.question.author or "Asked without a name" }}</p>
{{ render(thread.question) }}
</section>
{% if thread.accepted %}
<section class="post accepted" id="answer">
<p class="badge">✅ Accepted answer</p>
<p class="who">{{ thread.accepted.author or "Answered without a name" }}</p>
{{ render(thread.accepted) }}
</section>
{% endif %}
{% if thread.replies %}
<h2>The rest of the conversation</h2>
{% for post in thread.replies %}
<section class="post">
<p class="who">{{ post.author or "Without a name" }}</p>
{{ render(post) }}
</section>
{% endfor %}
{% endif %}
</article>
{% endblock %}
"""

CHANNEL = """{% extends "base.html" %}
{% block main %}
<h1>{{ title }}</h1>
<ul>
{% for thread in threads %}
<li><a href="{{ root }}t/{{ thread.thread_id }}.html">{{ thread.title }}</a> · helped {{ thread.helped }}</li>
{% endfor %}
</ul>
{% endblock %}
"""

HOME = """{% extends "base.html" %}
{% block main %}
<h1>{{ site_name }}</h1>
<p>Solved questions from our help channels, with the answers that worked.</p>
<h2>Help channels</h2>
<ul>
{% for channel_id, name, count in channels %}
<li><a href="{{ root }}c/{{ channel_id }}.html">{{ name }}</a> · {{ count }} solved</li>
{% endfor %}
</ul>
<h2>Most helpful</h2>
<ol>
{% for thread in top %}
<li><a href="{{ root }}t/{{ thread.thread_id }}.html">{{ thread.title }}</a> · helped {{ thread.helped }}</li>
{% endfor %}
</ol>
{% endblock %}
"""

NOT_FOUND = """{% extends "base.html" %}
{% block main %}
<h1>Not found</h1>
<p>This page does not exist, or it was removed from the archive.
<a href="{{ root }}index.html">See the solved questions.</a></p>
{% endblock %}
"""

TEMPLATES = {
    "base.html": BASE,
    "thread.html": THREAD,
    "channel.html": CHANNEL,
    "home.html": HOME,
    "404.html": NOT_FOUND,
}
