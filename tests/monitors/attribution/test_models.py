"""Loading models: files, functions and real HTTP endpoints, and clear errors for each."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import GradientBoostingClassifier

from modelmon.errors import ConfigError, InputError, NotFoundError
from modelmon.models import CallableModel, EndpointModel, EstimatorModel, load_model

Data = Callable[..., pd.DataFrame]


def test_joblib_file(model_file: Path, tree_model: GradientBoostingClassifier, data: Data) -> None:
    model = load_model(str(model_file))
    assert isinstance(model, EstimatorModel)
    assert model.tree_model is not None
    assert model.feature_names == ("f0", "f1", "f2", "f3", "f4", "f5")
    rows = data(5, seed=1)
    np.testing.assert_allclose(model.predict(rows)[:, 0], tree_model.predict_proba(rows)[:, 1])


def test_pickle_file(tmp_path: Path, tree_model: GradientBoostingClassifier) -> None:
    import pickle

    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(tree_model))
    assert isinstance(load_model(str(path)), EstimatorModel)


def test_bad_model_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.joblib"
    broken.write_bytes(b"not a pickle at all")
    with pytest.raises(InputError, match=r"broken\.joblib: the model file cannot be loaded"):
        load_model(str(broken))
    import joblib

    joblib.dump({"weights": [1, 2]}, tmp_path / "dict.joblib")
    with pytest.raises(InputError, match="holds no model"):
        load_model(str(tmp_path / "dict.joblib"))
    with pytest.raises(NotFoundError, match="no such model file"):
        load_model(str(tmp_path / "missing.joblib"))


def test_module_function(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: Data) -> None:
    (tmp_path / "scoring_module.py").write_text(
        "def score(frame):\n    return frame['f0'] * 2 + 1\n\nvalue = 3\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "scoring_module", raising=False)
    model = load_model("scoring_module:score")
    assert isinstance(model, CallableModel)
    rows = data(4, seed=2)
    np.testing.assert_allclose(model.predict(rows)[:, 0], rows["f0"] * 2 + 1)
    with pytest.raises(InputError, match="has no 'nothing'"):
        load_model("scoring_module:nothing")
    with pytest.raises(InputError, match="is not callable"):
        load_model("scoring_module:value")
    with pytest.raises(InputError, match="cannot be imported"):
        load_model("no_such_module_xyz:score")
    with pytest.raises(ConfigError, match="'model' parameter"):
        load_model("")


class _Handler(BaseHTTPRequestHandler):
    """Scores rows as 0.1 * f0 + 0.5; /error answers 500; /csv answers text lines."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if self.path == "/error":
            self._send(500, "text/plain", "model crashed: out of memory")
            return
        if self.headers["Content-Type"] == "text/csv":
            f0 = [float(line.split(",")[0]) for line in body.splitlines()]
        else:
            f0 = [row["f0"] for row in json.loads(body)]
        scores = [0.1 * x + 0.5 for x in f0]
        if self.path == "/csv":
            self._send(200, "text/csv", "\n".join(str(s) for s in scores))
        elif self.path == "/objects":
            self._send(200, "application/json", json.dumps([{"score": s} for s in scores]))
        else:
            self._send(200, "application/json", json.dumps({"predictions": scores}))

    def _send(self, status: int, kind: str, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/", "application/json"), ("/objects", "application/json"), ("/csv", "text/csv")],
)
def test_endpoint_scores_in_batches(
    endpoint: str, path: str, content_type: str, data: Data
) -> None:
    model = load_model(endpoint + path, content_type=content_type)
    assert isinstance(model, EndpointModel)
    model.batch_size = 7
    rows = data(20, seed=3)
    np.testing.assert_allclose(model.predict(rows)[:, 0], 0.1 * rows["f0"] + 0.5)


def test_erroring_endpoint_names_the_url(endpoint: str, data: Data) -> None:
    model = load_model(endpoint + "/error")
    with pytest.raises(InputError, match=r"/error: the model endpoint answered HTTP 500: model"):
        model.predict(data(3, seed=1))


def test_unreachable_endpoint(data: Data) -> None:
    model = EndpointModel("http://127.0.0.1:9/score", timeout=2)
    with pytest.raises(InputError, match="cannot be reached"):
        model.predict(data(2, seed=1))
