"""A stand-in for the data warehouse: accepts POST /ingest, keeps rows in memory, and stops on
POST /shutdown or after two idle minutes. It binds a free port on 127.0.0.1 and writes
{"port": ..., "pid": ...} to the file named by its first argument."""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

rows = []
last_request = time.monotonic()


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global last_request
        last_request = time.monotonic()
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/shutdown":
            self.reply(200, {"stopping": True})
            threading.Thread(target=self.server.shutdown).start()
            return
        if self.path != "/ingest":
            self.reply(404, {"error": "no such endpoint"})
            return
        batch = json.loads(body)
        rows.append(batch)
        self.reply(201, {"ingested": len(batch.get("records", [])), "batches": len(rows)})

    def reply(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def stop_when_idle(server):
    while True:
        time.sleep(1)
        if time.monotonic() - last_request > 120:
            server.shutdown()
            return


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=stop_when_idle, args=(server,), daemon=True).start()
target = sys.argv[1]
with open(target + ".tmp", "w") as f:
    json.dump({"port": server.server_address[1], "pid": os.getpid()}, f)
os.replace(target + ".tmp", target)
server.serve_forever()
