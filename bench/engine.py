#!/usr/bin/env python3
"""One end-to-end engine run, measured: a real `herald serve` process, a CRM audience of N
contacts, a 10 KB personalized email, one send, delivered into a running smtp-sink.

Called by bench/engine.sh (which builds Herald, starts the sink and runs smtp-source next
to it). Prints one JSON line:
  {"backend", "dkim", "recipients", "sent", "resolve_s", "deliver_s", "total_s",
   "deliver_rate", "total_rate", "peak_rss_mb", "rss_by_quarter_mb"}
deliver_rate = messages / (last outcome - first attempt), from the recipients' timestamps;
total_rate includes audience resolution (schedule call to Complete).
HERALD_BENCH_LOG sets the server's HERALD_LOG (default warn); e.g.
"warn,sqlx::query=debug" logs every statement with its time, to stderr.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

MID = "100000002"  # the demo account
CAMPAIGN = "701000000000001AAA"  # the demo campaign
FROM_DOMAIN = "herald.example"  # the demo sender profile's domain


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)


def herald(binary, env, *args):
    out = subprocess.run([binary, *args], env=env, check=True, capture_output=True, text=True)
    return out.stdout


def email_body(size):
    """An HTML part of about `size` bytes, personalized in several places."""
    head = (
        "<!DOCTYPE html><html><body><h1>Hello %%FirstName%%</h1>"
        "<p>Dear %%FirstName%% %%LastName%% of %%Company__c%%, this is for %%Email%%.</p>"
    )
    tail = '<p><a href="%%unsub_center_url%%">Unsubscribe</a></p></body></html>'
    paragraph = (
        "<p>Herald measures the whole engine: resolution, rendering, signing and SMTP. "
        "This paragraph pads the message to a realistic newsletter size.</p>\n"
    )
    filler = paragraph * ((size - len(head) - len(tail)) // len(paragraph))
    return head + filler + tail


def write_audience(path, n):
    with open(path, "w") as f:
        f.write("Email,FirstName,LastName,Company__c\n")
        for i in range(n):
            f.write(f"r{i}@bench{i % 50}.example,First{i},Last{i},Company {i % 1000}\n")


def memory_mb(pid, field):
    """A memory figure of the process from /proc: VmHWM (peak RSS) or VmRSS (now)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def timings(database_url, instance_id):
    query = (
        "SELECT MIN(first_attempt_at), MAX(completed_at), "
        "SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END) FROM recipients WHERE instance_id = "
        + str(int(instance_id))
    )
    if database_url.startswith("sqlite://"):
        with sqlite3.connect(database_url[len("sqlite://"):]) as db:
            return db.execute(query).fetchone()
    out = psql(database_url, query).strip()
    return tuple(int(v) for v in out.split(","))


def psql(url, sql):
    """Runs one statement; retried, because a shared server may be out of connections."""
    for attempt in range(10):
        done = subprocess.run(["psql", "-At", "-F", ",", url, "-c", sql],
                              capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout
        time.sleep(0.5 * (attempt + 1))
    sys.exit(f"psql failed: {done.stderr}")


def fresh_postgres(base_url, name):
    psql(base_url, f"DROP DATABASE IF EXISTS {name}")
    psql(base_url, f"CREATE DATABASE {name}")
    return base_url.rsplit("/", 1)[0] + "/" + name


def run(args):
    work = tempfile.mkdtemp(prefix="herald-bench-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if args.backend == "sqlite":
        database_url = f"sqlite://{work}/herald.db"
    else:
        database_url = fresh_postgres(args.postgres, "herald_bench")
    env = dict(
        os.environ,
        HERALD_LISTEN=f"127.0.0.1:{port}",
        HERALD_PUBLIC_URL=base + "/",
        HERALD_DATA_DIR=work,
        HERALD_DATABASE_URL=database_url,
        HERALD_SMTP_RELAY=args.relay,
        HERALD_RELAY_CONNECTIONS=str(args.connections),
        HERALD_LOG=os.environ.get("HERALD_BENCH_LOG", "warn"),
    )
    if args.dkim != "none":
        herald(args.herald, env, "dkim", "generate", "--domain", FROM_DOMAIN,
               "--selector", "bench", "--algorithm", args.dkim)
    server = subprocess.Popen([args.herald, "serve", "--demo"], env=env,
                              stdout=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                request("GET", base + "/readyz")
                break
            except OSError:
                time.sleep(0.1)
        package = json.loads(herald(args.herald, env, "package", "create", "--name", "bench",
                                    "--mid", MID, "--json"))
        token = request("POST", base + "/v2/token", {
            "grant_type": "client_credentials",
            "client_id": package["client_id"],
            "client_secret": package["client_secret"],
        })["access_token"]

        audience = os.path.join(work, "audience.csv")
        write_audience(audience, args.recipients)
        herald(args.herald, env, "crm", "import", "contacts", audience, "--mid", MID,
               "--campaign", CAMPAIGN, "--json")
        email = request("POST", base + "/asset/v1/content/assets", {
            "name": "Bench", "customerKey": "bench",
            "assetType": {"id": 208, "name": "htmlemail"},
            "views": {
                "subjectline": {"content": "News for %%FirstName%%"},
                "preheader": {"content": "Measured by bench/engine.sh"},
                "html": {"content": email_body(args.size // 2)},
            },
        }, token)

        send = base + "/data/v1/integration/send/salesforce/email"
        started = time.monotonic()
        created = request("POST", send, {
            "EmailDefinition": {
                "Name": "Bench", "EmailId": email["id"],
                "SendClassificationId": "Default Commercial",
                "Targets": [{"Type": "Campaign", "Name": "Demo", "Id": CAMPAIGN}],
            },
            "Schedule": {"StartImmediately": True, "AllRecipientsOptedIn": True},
        }, token)
        instance = created["InstanceId"]
        # The largest RSS seen while each quarter of the audience was being sent: flat
        # quarters mean memory does not grow with the messages sent.
        quarters = [0.0] * 4
        reached = 0
        while True:
            status = request("GET", f"{send}/instance/{instance}", token=token)
            if status["Status"] in ("Complete", "Error", "Canceled"):
                break
            counts = status["Counts"]
            if counts["Targeted"]:
                # The counts move in steps (the settler's passes): a step over a whole
                # quarter gives it the same sample.
                quarter = min(3, counts["Sent"] * 4 // counts["Targeted"])
                rss = memory_mb(server.pid, "VmRSS")
                for q in range(reached + 1, quarter + 1):
                    quarters[q] = max(quarters[q], rss)
                quarters[quarter] = max(quarters[quarter], rss)
                reached = max(reached, quarter)
            time.sleep(0.1)
        total = time.monotonic() - started
        if status["Status"] != "Complete":
            sys.exit(f"the send ended {status['Status']}: {status}")
        first, last, sent = timings(database_url, instance)
        deliver = (last - first) / 1000
        print(json.dumps({
            "backend": args.backend,
            "dkim": args.dkim,
            "recipients": status["Counts"]["Targeted"],
            "sent": sent,
            "resolve_s": round(total - deliver, 2),
            "deliver_s": round(deliver, 2),
            "total_s": round(total, 2),
            "deliver_rate": round(sent / deliver),
            "total_rate": round(sent / total),
            "peak_rss_mb": round(memory_mb(server.pid, "VmHWM"), 1),
            "rss_by_quarter_mb": [round(q, 1) for q in quarters],
        }), flush=True)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--herald", required=True)
    p.add_argument("--relay", required=True)
    p.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--dkim", choices=["none", "rsa", "ed25519"], default="none")
    p.add_argument("--recipients", type=int, default=100_000)
    p.add_argument("--size", type=int, default=10_240)
    p.add_argument("--connections", type=int, default=20)
    run(p.parse_args())


if __name__ == "__main__":
    main()
