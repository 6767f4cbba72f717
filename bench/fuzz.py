"""Malformed requests for bench/memory: signs in as the demo lead, then sends REQUESTS bodies
no page sends (NUL, invalid UTF-8, oversized, broken multipart, wrong passwords) to the POST
routes, CONCURRENCY at a time. Prints a one-line summary of the statuses seen.

    python3 bench/fuzz.py http://127.0.0.1:3410 10000 32
"""

import collections
import concurrent.futures
import http.client
import re
import sys
import threading
import urllib.parse

base, total, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
host = urllib.parse.urlparse(base)
local = threading.local()


def connection():
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
    return local.c


def request(method, path, body=b"", kind="application/x-www-form-urlencoded", cookie=""):
    headers = {"Content-Type": kind, "Sec-Fetch-Site": "same-origin", "Cookie": cookie}
    for attempt in range(2):
        try:
            c = connection()
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            data = r.read()
            return r.status, r.getheader("Set-Cookie") or "", data
        except (http.client.HTTPException, OSError):
            local.c.close()
            del local.c
    return 0, "", b""


status, set_cookie, _ = request(
    "POST", "/login", b"email=lead%40ashbridge.example&password=demo-password-prevent"
)
cookie = set_cookie.split(";")[0]
_, _, page = request("GET", "/assessments", cookie=cookie)
ids = sorted(set(re.findall(rb"/assessments/([0-9a-f-]{36})", page)))
assessment = ids[0].decode() if ids else "00000000-0000-0000-0000-000000000000"

routes = [
    "/login", "/account/mail", "/account/password", "/password-reset", "/assessments",
    "/orgs/ashbridge/people", "/me/actions", "/notifications/read", "/admin/regions",
    f"/assessments/{assessment}/benchmarks/1", f"/assessments/{assessment}/review",
    f"/assessments/{assessment}/submit",
]
form = "application/x-www-form-urlencoded"
bodies = [
    (form, b""), (form, b"%00=%00"), (form, b"email=lead%40ashbridge.example&password=wrong-wrong-wrong"),
    (form, b"evidence-1.1=%00%00&status-1.1=%00&version=1&intent=save"), (form, b"\xff\xfe\x00=\x80"),
    (form, b"version=abc&intent=save&intent=save"), (form, b"x" * 200_000),
    (form, b"a" * (3 * 1024 * 1024)), ("multipart/form-data; boundary=XYZ", b"--ABC\r\n\r\nnothing"),
    ("application/json", b'{"intent": "save"}'),
]
gets = ["/orgs/ashbridge", "/orgs/ashbridge/actions?owner=%00", "/orgs/ashbridge/audit?actor=%FF"]


def one(i):
    if i % 10 == 9:
        return request("GET", gets[i % len(gets)], cookie=cookie)[0]
    kind, body = bodies[i % len(bodies)]
    return request("POST", routes[(i // len(bodies)) % len(routes)], body, kind, cookie)[0]


seen = collections.Counter()
with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
    for s in pool.map(one, range(total)):
        seen[s] += 1
print(f"{total} requests: " + ", ".join(f"{k}: {v}" for k, v in sorted(seen.items())))
if any(k >= 500 or k == 0 for k in seen):
    sys.exit(1)
