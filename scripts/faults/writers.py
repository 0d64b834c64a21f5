"""Writers against a running server, and a check of what they were told.

    writers.py write URL TOKEN SECONDS OUT.json   # N writers for SECONDS; every outcome to OUT.json
    writers.py check URL TOKEN OUT.json           # what the database holds against what writers were told

Each writer creates a partner and updates it twice, over and over. A write
is `acknowledged` (data, no error), `refused` (an error with its code), or
`unanswered` (no HTTP answer). The check reads every partner the writers
touched and reports, by outcome, how many writes the database holds:
every acknowledged one must be there, and every partner's history must
match its row (nothing half-written).
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.request

WRITERS = 8

CREATE = """mutation($input: CreatePartnerInput!) { createPartner(input: $input) { id version } }"""
UPDATE = """mutation($input: UpdatePartnerInput!) { updatePartner(input: $input) { version } }"""
FOUND = """query($after: String) { partners(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { slug version name(lang: EN) history(last: 100) { totalCount nodes { after } } } } }"""


def post(url, token, query, variables):
    """The answer's body, or None when there is no HTTP answer."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        url, body, {"content-type": "application/json", "authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.load(response)
    except urllib.error.HTTPError as e:
        try:
            return json.load(e)
        except ValueError:
            return {"errors": [{"extensions": {"code": f"HTTP {e.code}"}}]}
    except (OSError, ValueError):
        return None


def outcome(answer):
    if answer is None:
        return "unanswered", None
    if answer.get("errors"):
        return "refused", answer["errors"][0].get("extensions", {}).get("code", "?")
    if not isinstance(answer.get("data"), dict):
        # Neither errors nor data is no acknowledgement: counted, not trusted.
        return "refused", "NO_DATA"
    return "acknowledged", answer["data"]


def write(url, token, seconds, out):
    log, lock = [], threading.Lock()
    stop = time.monotonic() + seconds

    def writer(n):
        i = 0
        while time.monotonic() < stop:
            slug = f"fault-{n}-{i}"
            i += 1
            names = {"nameEn": slug, "nameFr": slug}
            answer = post(url, token, CREATE, {"input": {"slug": slug, "kind": "NGO", "sector": "PRIVATE", **names}})
            kind, data = outcome(answer)
            with lock:
                log.append({"slug": slug, "version": 1, "outcome": kind, "code": data if kind == "refused" else None})
            if kind != "acknowledged":
                continue
            partner, version = data["createPartner"]["id"], 1
            while version < 3 and time.monotonic() < stop:
                name = f"{slug} v{version + 1}"
                variables = {"input": {"id": partner, "expectedVersion": version, "nameEn": name}}
                kind, data = outcome(post(url, token, UPDATE, variables))
                with lock:
                    log.append({"slug": slug, "version": version + 1, "outcome": kind,
                                "code": data if kind == "refused" else None})
                if kind != "acknowledged":
                    break
                version = data["updatePartner"]["version"]

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        json.dump(log, f)


def check(url, token, out):
    with open(out) as f:
        log = json.load(f)
    found, after = {}, None
    while True:
        kind, data = outcome(post(url, token, FOUND, {"after": after}))
        if kind != "acknowledged":
            sys.exit(f"the server could not list the partners written: {kind} {data}")
        page = data["partners"]
        for p in page["nodes"]:
            if p["slug"].startswith("fault-"):
                found[p["slug"]] = p
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    problems = []
    for slug, p in found.items():
        history = p["history"]
        last = history["nodes"][-1]["after"] if history["nodes"] else {}
        if history["totalCount"] != p["version"] or last.get("version") != p["version"] or last.get("name_en") != p["name"]:
            problems.append(f"{slug}: row and history disagree: {p}")
    counts = {}
    for write in log:
        held = found.get(write["slug"], {}).get("version", 0) >= write["version"]
        key = write["outcome"] if write["outcome"] != "refused" else f"refused {write['code']}"
        attempted, present = counts.get(key, (0, 0))
        counts[key] = (attempted + 1, present + held)
        if write["outcome"] == "acknowledged" and not held:
            problems.append(f"{write['slug']} v{write['version']} was acknowledged and is not there")
    print(f"writes attempted: {len(log)}")
    for key, (attempted, present) in sorted(counts.items()):
        print(f"  {key}: {attempted}, of which in the database: {present}")
    print(f"partners checked (history against row): {len(found)}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3], float(sys.argv[4]), sys.argv[5])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4]))
