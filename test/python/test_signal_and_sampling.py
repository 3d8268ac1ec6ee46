"""GridSample against onnx's reference (every mode, padding and align_corners, sample points
inside and outside the image; onnxruntime agrees except for cubic with border padding, where it
clamps each tap rather than the sample point as the reference does) and DFT against numpy's FFT."""

import numpy as np
import pytest
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from conftest import make_model, tensor


@pytest.mark.parametrize("align_corners", [0, 1])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["linear", "nearest", "cubic"])
def test_grid_sample(compile_and_run, mode, padding_mode, align_corners):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 5, 7)).astype(np.float32)
    grid = rng.uniform(-1.6, 1.6, (2, 4, 6, 2)).astype(np.float32)  # some points outside
    node = helper.make_node("GridSample", ["x", "grid"], ["y"], mode=mode,
                            padding_mode=padding_mode, align_corners=align_corners)
    model = make_model([node], [tensor("x", np.float32, x.shape),
                                tensor("grid", np.float32, grid.shape)],
                       [tensor("y", np.float32, (2, 3, 4, 6))], opset=20, ir_version=9)
    feeds = {"x": x, "grid": grid}
    (expected,) = ReferenceEvaluator(model).run(None, feeds)
    (got,) = compile_and_run(model, feeds)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("inverse,onesided", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_dft_matches_numpy_fft(compile_and_run, inverse, onesided):
    rng = np.random.default_rng(4)
    length = 12
    spectrum_len = length // 2 + 1
    channels = 2 if inverse else 1
    along = spectrum_len if inverse and onesided else length
    x = rng.standard_normal((3, along, channels)).astype(np.float32)
    if inverse and onesided:  # a real signal's half spectrum
        x = np.stack([np.fft.rfft(rng.standard_normal((3, length)), axis=1).real,
                      np.fft.rfft(rng.standard_normal((3, length)), axis=1).imag], -1)
        x[:, 0, 1] = 0  # the DC and Nyquist bins of a real signal are real
        x[:, -1, 1] = 0
        x = x.astype(np.float32)
    out_len = spectrum_len if onesided and not inverse else length
    out_c = 1 if inverse and onesided else 2
    node = helper.make_node("DFT", ["x", "", "axis"], ["y"], inverse=inverse, onesided=onesided)
    axis = numpy_helper.from_array(np.array(1, np.int64), "axis")
    model = make_model([node], [tensor("x", np.float32, x.shape)],
                       [tensor("y", np.float32, (3, out_len, out_c))], opset=20, ir_version=9,
                       initializers=[axis])
    (y,) = compile_and_run(model, {"x": x})
    signal = x[..., 0] + (1j * x[..., 1] if channels == 2 else 0)
    if inverse and onesided:
        expected = np.fft.irfft(signal, n=length, axis=1)[..., None]
    else:
        spectrum = (np.fft.ifft if inverse else np.fft.fft)(signal, axis=1)[:, :out_len]
        expected = np.stack([spectrum.real, spectrum.imag], -1)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
