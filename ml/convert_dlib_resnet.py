"""Convert dlib's face-recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`) to ONNX.

The network is a 29-layer ResNet that maps a 150x150 RGB face chip to a 128-d embedding
(Davis King, 99.38 % on LFW; CC0 / public domain). It ships inside the PyPI sdist
`face_recognition_models==0.3.0`. Its type, from dlib's `examples/dnn_face_recognition_ex.cpp`:

    loss_metric<fc_no_bias<128, avg_pool_everything<
        alevel0<alevel1<alevel2<alevel3<alevel4<
        max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>>>>>
    ares<N,S>      = relu<add_prev1<block<N,1,tag1<S>>>>
    ares_down<N,S> = relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,2,tag1<S>>>>>>>
    block<N,st,S>  = affine<con<N,3,3,1,1,relu<affine<con<N,3,3,st,st,S>>>>>>
    alevel0 = ares_down<256>;  alevel1 = ares<256> x2 + ares_down<256>
    alevel2 = ares<128> x2 + ares_down<128>;  alevel3 = ares<64> x3 + ares_down<64>
    alevel4 = ares<32> x3

This script reads dlib's binary serialization directly (no dlib needed), following the code in
dlib 19.24's `serialize.h`, `dnn/core.h`, `dnn/layers.h`, `dnn/input.h` and `cuda/tensor.h`, and
writes an equivalent ONNX graph. dlib semantics reproduced exactly:
  * input: (pixel - mean_rgb) / 256 with the means stored in the file; the ONNX input is the raw
    RGB chip, float32 [1, 3, 150, 150] in 0..255;
  * `con` with stride != 1 has no padding, stride 1 pads by k/2; pools have no padding;
  * `add_prev` zero-extends both operands to the larger channel count and spatial size
    (the block output is 3x3 where the pooled shortcut is 4x4, for example) before adding.
Output: "embedding" float32 [1, 128] (not normalised; dlib compares Euclidean distances < 0.6).

The output is deterministic: same input bytes -> same ONNX bytes (no timestamps, fixed names).

Usage: python convert_dlib_resnet.py MODEL.dat OUT.onnx
"""

from __future__ import annotations

import argparse
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CHIP = 150


class Reader:
    """dlib's serialization primitives."""

    def __init__(self, data: bytes):
        self.d = data
        self.p = 0

    def byte(self) -> int:
        b = self.d[self.p]
        self.p += 1
        return b

    def int(self) -> int:
        # control byte: low 4 bits = byte count, bit 7 = negative; then little-endian magnitude
        ctl = self.byte()
        n = ctl & 0x0F
        if n == 0 or n > 8 or ctl & 0x70:
            raise ValueError(f"bad integer control byte 0x{ctl:02x} at {self.p - 1}")
        v = int.from_bytes(self.d[self.p:self.p + n], "little")
        self.p += n
        return -v if ctl & 0x80 else v

    def float(self) -> float:
        # float_details: int64 mantissa, int16 exponent; value = mantissa * 2^exponent
        if self.d[self.p] & 0x70:
            raise ValueError(f"old ASCII float format at {self.p} is not supported")
        m = self.int()
        e = self.int()
        if e >= 32000:
            raise ValueError(f"non-finite float at {self.p}")
        return float(np.ldexp(np.float64(m), e))

    def bool(self) -> bool:
        c = self.byte()
        if c not in (ord("0"), ord("1")):
            raise ValueError(f"bad bool at {self.p - 1}")
        return c == ord("1")

    def string(self) -> str:
        n = self.int()
        s = self.d[self.p:self.p + n].decode("ascii")
        self.p += n
        return s

    def expect_version(self, want: set[int], what: str) -> int:
        v = self.int()
        if v not in want:
            raise ValueError(f"{what}: unexpected version {v}")
        return v

    def tensor(self) -> np.ndarray:
        self.expect_version({2}, "resizable_tensor")
        shape = [self.int() for _ in range(4)]
        n = int(np.prod(shape))
        a = np.frombuffer(self.d, dtype="<f4", count=n, offset=self.p).reshape(shape)
        self.p += 4 * n
        return a.astype(np.float32)

    def alias_tensor(self) -> tuple[int, ...]:
        self.expect_version({1}, "alias_tensor")
        return tuple(self.int() for _ in range(4))


# The network, outermost first. ("L", kind, args) = add_layer, ("T", id) tag, ("S", id) skip.
def block(n: int, stride: int) -> list:
    return [("L", "affine", ()), ("L", "con", (n, 3, 1)), ("L", "relu", ()),
            ("L", "affine", ()), ("L", "con", (n, 3, stride))]


def ares(n: int) -> list:
    return [("L", "relu", ()), ("L", "add_prev", (1,))] + block(n, 1) + [("T", 1)]


def ares_down(n: int) -> list:
    return ([("L", "relu", ()), ("L", "add_prev", (2,)), ("L", "avg_pool", (2, 2)), ("S", 1),
             ("T", 2)] + block(n, 2) + [("T", 1)])


def network() -> list:
    chain = [("L", "fc", (128,)), ("L", "avg_pool_everything", ())]
    chain += ares_down(256)
    chain += ares(256) + ares(256) + ares_down(256)
    chain += ares(128) + ares(128) + ares_down(128)
    chain += ares(64) + ares(64) + ares(64) + ares_down(64)
    chain += ares(32) + ares(32) + ares(32)
    chain += [("L", "max_pool", (3, 2)), ("L", "relu", ()), ("L", "affine", ()),
              ("L", "con", (32, 7, 2))]
    return chain


def read_details(r: Reader, kind: str, args: tuple) -> dict:
    """One layer's `details` object, checked against the expected type."""
    v = r.string()
    if kind == "con":
        if v not in ("con_4", "con_5"):
            raise ValueError(f"expected con_, found {v}")
        params = r.tensor()
        nf, nr, nc, sy, sx, py, px = (r.int() for _ in range(7))
        fshape = r.alias_tensor()
        bshape = r.alias_tensor()
        for _ in range(4):
            r.float()  # learning-rate / weight-decay multipliers
        use_bias = r.bool() if v == "con_5" else True
        n, k, stride = args
        want_pad = 0 if stride != 1 else k // 2
        if (nf, nr, nc, sy, sx, py, px) != (n, k, k, stride, stride, want_pad, want_pad):
            raise ValueError(f"con mismatch: {(nf, nr, nc, sy, sx, py, px)}")
        flat = params.reshape(-1)
        nw = int(np.prod(fshape))
        w = flat[:nw].reshape(fshape)
        b = flat[nw:nw + int(np.prod(bshape))] if use_bias else np.zeros(nf, np.float32)
        return {"w": w, "b": b.reshape(-1), "stride": stride, "pad": want_pad}
    if kind == "affine":
        if v == "bn_con2":
            params = r.tensor()
            g_shape = r.alias_tensor()
            r.alias_tensor()
            r.tensor(), r.tensor()  # batch means / invstds
            rm = r.tensor().reshape(-1)
            rv = r.tensor().reshape(-1)
            r.int()  # num_updates
            r.int()  # running_stats_window_size
            for _ in range(4):
                r.float()
            eps = np.float32(r.float())
            k = int(np.prod(g_shape))
            flat = params.reshape(-1)
            # same arithmetic as dlib's affine_(const bn_&) in float32
            g = flat[:k] / np.sqrt(rv + eps)
            b = flat[k:2 * k] - g * rm
            return {"g": g.astype(np.float32), "b": b.astype(np.float32)}
        if v not in ("affine_", "affine_2"):
            raise ValueError(f"expected affine_, found {v}")
        params = r.tensor()
        g_shape = r.alias_tensor()
        r.alias_tensor()
        mode = r.int()
        if v == "affine_2" and r.bool():
            raise ValueError("disabled affine layer not supported")
        if mode != 0:  # CONV_MODE
            raise ValueError(f"affine mode {mode} is not CONV_MODE")
        k = int(np.prod(g_shape))
        flat = params.reshape(-1)
        return {"g": flat[:k].copy(), "b": flat[k:2 * k].copy()}
    if kind == "fc":
        if v not in ("fc_2", "fc_3"):
            raise ValueError(f"expected fc_, found {v}")
        n_out, n_in = r.int(), r.int()
        params = r.tensor()
        wshape = r.alias_tensor()
        r.alias_tensor()
        if r.int() != 1:  # FC_NO_BIAS
            raise ValueError("fc layer has a bias")
        for _ in range(4):
            r.float()
        if v == "fc_3":
            r.bool()
        if n_out != args[0]:
            raise ValueError(f"fc outputs {n_out} != {args[0]}")
        w = params.reshape(-1)[:int(np.prod(wshape))].reshape(n_in, n_out)
        return {"w": w}
    if kind in ("max_pool", "avg_pool"):
        if v != f"{kind}_2":
            raise ValueError(f"expected {kind}_2, found {v}")
        nr, nc, sy, sx, py, px = (r.int() for _ in range(6))
        k, s = args
        if (nr, nc, sy, sx, py, px) != (k, k, s, s, 0, 0):
            raise ValueError(f"{kind} mismatch: {(nr, nc, sy, sx, py, px)}")
        return {"k": k, "s": s}
    if kind == "avg_pool_everything":
        if v != "avg_pool_2":
            raise ValueError(f"expected avg_pool_2, found {v}")
        vals = [r.int() for _ in range(6)]
        if vals[:4] != [0, 0, 1, 1]:
            raise ValueError(f"avg_pool_everything mismatch: {vals}")
        return {}
    if kind == "relu":
        if v != "relu_":
            raise ValueError(f"expected relu_, found {v}")
        return {}
    if kind == "add_prev":
        if v != "add_prev_":
            raise ValueError(f"expected add_prev_, found {v}")
        return {"tag": args[0]}
    raise ValueError(kind)


def skip_layer_state(r: Reader, n_tensors: int) -> None:
    """Training state after `details`: three bools and `n_tensors` cached tensors (ignored)."""
    for _ in range(3):
        r.bool()
    for _ in range(n_tensors):
        r.tensor()


def parse(data: bytes) -> tuple[dict, list]:
    """Returns (input means, forward-ordered op list)."""
    r = Reader(data)
    r.expect_version({1}, "add_loss_layer")
    loss = r.string()
    if loss == "loss_metric_2":
        r.float(), r.float()
    elif loss != "loss_metric_":
        raise ValueError(f"expected loss_metric_, found {loss}")
    chain = network()
    ops: list = []
    means: dict = {}

    def rec(i: int) -> None:
        node = chain[i]
        if node[0] in ("T", "S"):
            r.expect_version({1}, "add_tag_layer/add_skip_layer")
            rec(i + 1)
            ops.append(node)
            return
        _, kind, args = node
        if i + 1 == len(chain):
            ver = r.expect_version({2, 3}, "add_layer<input>")
            name = r.string()
            if name != "input_rgb_image_sized":
                raise ValueError(f"expected input_rgb_image_sized, found {name}")
            means["rgb"] = [r.float() for _ in range(3)]
            if (r.int(), r.int()) != (CHIP, CHIP):
                raise ValueError("input size is not 150x150")
            det = read_details(r, kind, args)
            skip_layer_state(r, 3)
            if ver == 3:
                r.int()  # sample_expansion_factor
        else:
            ver = r.expect_version({1, 2}, "add_layer")
            rec(i + 1)
            det = read_details(r, kind, args)
            skip_layer_state(r, 3 if ver == 2 else 2)
        ops.append(("L", kind, det))

    rec(0)
    if r.p != len(data):
        raise ValueError(f"{len(data) - r.p} trailing bytes")
    return means, ops


class Graph:
    def __init__(self) -> None:
        self.nodes: list = []
        self.inits: list = []
        self.n = 0

    def name(self, p: str) -> str:
        self.n += 1
        return f"{p}_{self.n}"

    def const(self, arr: np.ndarray, p: str) -> str:
        nm = self.name(p)
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), nm))
        return nm

    def op(self, typ: str, inputs: list[str], p: str, **attrs) -> str:
        out = self.name(p)
        self.nodes.append(helper.make_node(typ, inputs, [out], name=out, **attrs))
        return out


def build(means: dict, ops: list) -> onnx.ModelProto:
    g = Graph()
    mean = np.array(means["rgb"], np.float32).reshape(1, 3, 1, 1)
    x = g.op("Sub", ["chip", g.const(mean, "mean")], "sub")
    x = g.op("Mul", [x, g.const(np.array(1.0 / 256.0, np.float32), "inv256")], "scale")
    # shapes tracked statically: (channels, side)
    shape = (3, CHIP)
    tags: dict[int, tuple[str, tuple[int, int]]] = {}
    for node in ops:
        if node[0] == "T":
            tags[node[1]] = (x, shape)
            continue
        if node[0] == "S":
            x, shape = tags[node[1]]
            continue
        _, kind, d = node
        if kind == "con":
            w, b = d["w"], d["b"]
            k = w.shape[2]
            p = d["pad"]
            x = g.op("Conv", [x, g.const(w, "w"), g.const(b, "b")], "conv",
                     kernel_shape=[k, k], strides=[d["stride"]] * 2, pads=[p] * 4)
            shape = (w.shape[0], (shape[1] + 2 * p - k) // d["stride"] + 1)
        elif kind == "affine":
            c = d["g"].size
            x = g.op("Mul", [x, g.const(d["g"].reshape(1, c, 1, 1), "gamma")], "affmul")
            x = g.op("Add", [x, g.const(d["b"].reshape(1, c, 1, 1), "beta")], "affadd")
        elif kind == "relu":
            x = g.op("Relu", [x], "relu")
        elif kind == "max_pool":
            x = g.op("MaxPool", [x], "maxpool", kernel_shape=[d["k"]] * 2, strides=[d["s"]] * 2)
            shape = (shape[0], (shape[1] - d["k"]) // d["s"] + 1)
        elif kind == "avg_pool":
            x = g.op("AveragePool", [x], "avgpool", kernel_shape=[d["k"]] * 2,
                     strides=[d["s"]] * 2)
            shape = (shape[0], (shape[1] - d["k"]) // d["s"] + 1)
        elif kind == "add_prev":
            y, yshape = tags[d["tag"]]
            c = max(shape[0], yshape[0])
            s = max(shape[1], yshape[1])

            def pad_to(t: str, sh: tuple[int, int]) -> str:
                if sh == (c, s):
                    return t
                pads = np.array([0, 0, 0, 0, 0, c - sh[0], s - sh[1], s - sh[1]], np.int64)
                return g.op("Pad", [t, g.const(pads, "pads")], "pad")

            x = g.op("Add", [pad_to(x, shape), pad_to(y, yshape)], "add")
            shape = (c, s)
        elif kind == "avg_pool_everything":
            x = g.op("GlobalAveragePool", [x], "gap")
            x = g.op("Flatten", [x], "flat", axis=1)
        elif kind == "fc":
            x = g.op("MatMul", [x, g.const(d["w"], "fcw")], "fc")
        else:
            raise ValueError(kind)
    g.nodes[-1].output[0] = "embedding"
    graph = helper.make_graph(
        g.nodes, "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chip", TensorProto.FLOAT, [1, 3, CHIP, CHIP])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 128])],
        g.inits)
    model = helper.make_model(graph, producer_name="virtengine-ml/convert_dlib_resnet",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def convert(src: str, dst: str) -> None:
    with open(src, "rb") as f:
        data = f.read()
    means, ops = parse(data)
    model = build(means, ops)
    with open(dst, "wb") as f:
        f.write(model.SerializeToString())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model_dat")
    ap.add_argument("out_onnx")
    a = ap.parse_args()
    convert(a.model_dat, a.out_onnx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
