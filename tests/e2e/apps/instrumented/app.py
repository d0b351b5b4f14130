"""An uninstrumented Flask service: answers every request on $PORT with "ok"."""

import os

from flask import Flask

app = Flask(__name__)


@app.route("/")
def index() -> str:
    return "ok"


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["PORT"]))
