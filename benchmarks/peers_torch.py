"""PyTorch (eager, CPU) contenders, initialised from the shared NumPy weights."""

from __future__ import annotations

import numpy as np
from harness import bench_threads


def setup():
    """Import torch with one intra-op thread per usable core (or --threads)."""
    import torch

    torch.set_num_threads(bench_threads())
    return torch


def info(torch) -> dict:
    return {"torch": torch.__version__, "num_threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads()}


def _load(param, value: np.ndarray):
    import torch

    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def _train_step(torch, model, loss_fn, x: np.ndarray, y: np.ndarray, lr: float):
    """One Adam step per call on NumPy inputs; returns the loss as a float."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        opt.step()
        return loss.item()

    return step


def mlp(torch, data):
    nn = torch.nn
    layers = [nn.Linear(i, o) for i, o in [(784, 400), (400, 100), (100, 10)]]
    for layer, w, b in zip(layers, data["weights"], data["biases"]):
        _load(layer.weight, w.T)
        _load(layer.bias, b)
    model = nn.Sequential(layers[0], nn.ReLU(), layers[1], nn.ReLU(), layers[2])
    return _train_step(torch, model, nn.functional.cross_entropy, data["x"], data["labels"],
                       data["lr"])


def cnn(torch, data):
    """LeNet in NCHW; fc1's rows are permuted so flattening C,H,W matches TF's H,W,C."""
    nn = torch.nn
    conv1, conv2 = nn.Conv2d(1, 32, 5, padding=2), nn.Conv2d(32, 64, 5, padding=2)
    fc1, fc2 = nn.Linear(7 * 7 * 64, 1024), nn.Linear(1024, 10)
    _load(conv1.weight, data["conv1"].transpose(3, 2, 0, 1))
    _load(conv2.weight, data["conv2"].transpose(3, 2, 0, 1))
    fc1_chw = data["fc1"].reshape(7, 7, 64, 1024).transpose(2, 0, 1, 3).reshape(-1, 1024)
    _load(fc1.weight, fc1_chw.T)
    _load(fc2.weight, data["fc2"].T)
    for layer, key in [(conv1, "b_conv1"), (conv2, "b_conv2"), (fc1, "b_fc1"), (fc2, "b_fc2")]:
        _load(layer.bias, data[key])
    model = nn.Sequential(conv1, nn.ReLU(), nn.MaxPool2d(2), conv2, nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), fc1, nn.ReLU(), fc2)
    x = np.ascontiguousarray(data["x"].transpose(0, 3, 1, 2))
    return _train_step(torch, model, nn.functional.cross_entropy, x, data["labels"],
                       data["lr"])


def _tf_gates_to_torch(a: np.ndarray, axis: int) -> np.ndarray:
    """Reorder LSTM gate blocks from TF's [i, j, f, o] to torch's [i, f, g(=j), o]."""
    i, j, f, o = np.split(a, 4, axis=axis)
    return np.concatenate([i, f, j, o], axis=axis)


def lstm(torch, data):
    """nn.LSTM (2 layers, batch_first) forward + backward; no optimizer update."""
    hidden = data["hidden"]
    inputs = data["x"].shape[2]
    model = torch.nn.LSTM(inputs, hidden, num_layers=2, batch_first=True)
    for layer, (kernel, bias) in enumerate(zip(data["kernels"], data["biases"])):
        k = _tf_gates_to_torch(kernel, axis=1)
        n_in = kernel.shape[0] - hidden
        b = bias.copy()
        b[2 * hidden:3 * hidden] += data["forget_bias"]  # TF adds forget_bias to f
        _load(getattr(model, f"weight_ih_l{layer}"), k[:n_in].T)
        _load(getattr(model, f"weight_hh_l{layer}"), k[n_in:].T)
        _load(getattr(model, f"bias_ih_l{layer}"), _tf_gates_to_torch(b, axis=0))
        _load(getattr(model, f"bias_hh_l{layer}"), np.zeros_like(b))
    x, target = data["x"], torch.from_numpy(data["target"])
    params = list(model.parameters())

    def step():
        for p in params:
            p.grad = None
        out, _ = model(torch.from_numpy(x))
        loss = ((out - target) ** 2).mean()
        loss.backward()
        return loss.item()

    return step


def eager_add(torch, data):
    a, b = torch.from_numpy(data["a"]), torch.from_numpy(data["b"])
    return lambda: a + b


BUILDERS = {"mlp": mlp, "cnn": cnn, "lstm": lstm, "eager_add": eager_add}


def make_step(workload: str, data):
    """The PyTorch eager step for `workload`."""
    return BUILDERS[workload](setup(), data)
