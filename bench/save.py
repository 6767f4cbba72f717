"""The save loop of the benchmark suite: reads a benchmark's page as its form stands, changes one
question's evidence (a marker added, then taken away again, so the data does not grow) and
saves the whole page, as the lead's "Save" button does, again and again. THREADS loops run at
once, each on its own benchmark (1, 2, …), so that they do not conflict with each other. Prints
one line: saves, seconds, saves per second, the median, 99th percentile and slowest save.

    python3 bench/save.py BASE COOKIE ASSESSMENT SAVES THREADS
"""

import html.parser
import http.client
import re
import statistics
import sys
import threading
import time
import urllib.parse

base, cookie, assessment = sys.argv[1], sys.argv[2], sys.argv[3]
saves, threads = int(sys.argv[4]), int(sys.argv[5])
host = urllib.parse.urlparse(base)
MARKER = " (checked by the save loop)"


class Form(html.parser.HTMLParser):
    """The fields of the form posting to `action` as the browser would send them on "Save"."""

    def __init__(self, action):
        super().__init__()
        self.action, self.fields, self.inside = action, [], False
        self.textarea = self.select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and a.get("action") == self.action:
            self.inside = True
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            if kind in ("file", "submit"):
                return
            self.fields.append([name, a.get("value", "")])
        elif tag == "textarea" and name:
            self.textarea = [name, ""]
            self.fields.append(self.textarea)
        elif tag == "select" and name:
            # The selected option, else the first.
            self.select = [name, None]
            self.fields.append(self.select)
        elif tag == "option" and self.select is not None:
            if self.select[1] is None or "selected" in a:
                self.select[1] = a.get("value", "")

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        if tag == "select":
            self.select = None
        if tag == "form":
            self.inside = False


def loop(number, times):
    c = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    path = f"/assessments/{assessment}/benchmarks/{number}"
    headers = {"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}
    for _ in range(saves):
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        page = r.read().decode()
        if r.status != 200:
            raise RuntimeError(f"{path} answered {r.status}")
        form = Form(path)
        form.feed(page)
        evidence = next((f for f in form.fields if f[0].startswith("evidence-")), None)
        if evidence is None:
            raise RuntimeError(f"{path} has no evidence to change: is the assessment a draft the lead may edit?")
        if evidence[1].endswith(MARKER):
            evidence[1] = evidence[1][: -len(MARKER)]
        else:
            evidence[1] += MARKER
        body = urllib.parse.urlencode([(k, v or "") for k, v in form.fields] + [("intent", "save")])
        start = time.perf_counter()
        c.request("POST", path, body=body, headers=headers | {
            "Content-Type": "application/x-www-form-urlencoded"})
        r = c.getresponse()
        answer = r.read().decode()
        times.append(time.perf_counter() - start)
        if r.status != 303:
            problems = re.findall(r'<a href="#[^"]*">([^<]*)</a>', answer.split("govuk-error-summary__list", 1)[-1])[:3]
            raise RuntimeError(f"saving {path} answered {r.status}: {problems}")


times, started = [], time.perf_counter()
workers = [threading.Thread(target=loop, args=(n + 1, times)) for n in range(threads)]
for w in workers:
    w.start()
for w in workers:
    w.join()
elapsed = time.perf_counter() - started
if not times:
    sys.exit("nothing was saved")
times.sort()
ms = lambda s: f"{s * 1000:.1f}"
p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
print(f"{len(times)} {elapsed:.2f} {len(times) / elapsed:.1f} {ms(statistics.median(times))} {ms(p99)} {ms(times[-1])}")
if len(times) != saves * threads:
    sys.exit(1)
