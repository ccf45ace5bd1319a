"""Interactive SSR-vs-b3 explorers: an ipywidgets one for Jupyter, a kernel-free one for the site.

In Jupyter, `B3Explorer().widget` shows a b3 slider, a learning-rate menu and Step / Run / Reset
buttons over one matplotlib figure (data, the network's curve and its residuals on the left; SSR
against b3 with the current point, its tangent and the descent path on the right) and a table
of the steps. The figure's artists are updated in place and the figure is redrawn into the same
output area, so nothing accumulates.

On the static site there is no kernel, so `b3_static_html()` emits a placeholder that
book/_vendor/explorer/explorer.js turns into the same explorer with SVG. Why JavaScript and not a
precomputed animation: b3 only shifts the curve, so SSR(b3) = sum_i (observed_i - base_i - b3)^2
and its slope are two lines of arithmetic on the three numbers base_i = predicted_i - b3, which we
compute here in Python and pass in. The page stays small and exact at every slider position, and
the browser test checks that it reaches the same b3 as bpcourse.b3.
"""

from __future__ import annotations

import html
import json

import numpy as np

from bpcourse import b3, deep

# 1/3 is the edge of stability here (SSR(b3) has curvature 2 * 3 = 6): rates above it diverge.
LEARNING_RATES = (0.01, 0.05, 0.1, 0.2, 0.3, 0.33, 0.34, 0.4)


def b3_config(lr: float = 0.1, min_step: float = 0.001) -> dict:
    """Everything the kernel-free explorer needs, computed by bpcourse.b3 (b3 = 0 baseline)."""
    base = {**b3.TRAINED, "b3": 0.0}
    dose = np.linspace(0.0, 1.0, 101)
    return {
        "x": b3.DOSAGE.tolist(),
        "observed": b3.OBSERVED.tolist(),
        "base": b3.predict(b3.DOSAGE, base).tolist(),  # predictions at the data with b3 = 0
        "dose": dose.tolist(),
        "curve": b3.predict(dose, base).tolist(),  # the squiggle with b3 = 0
        "b3_range": [-1.0, 5.0],
        "start": 0.0,
        "lr": lr,
        "learning_rates": list(LEARNING_RATES),
        "min_step": min_step,
        "max_steps": 1000,
    }


def norms_config(depths=(2, 4, 6, 8, 10, 15, 20), width=64, scales=(1.0, 1.4142135623730951, 4.0)) -> dict:
    """Per-layer gradient norms for every activation, initialization scale and depth.

    Two quantities per network: "dh", ||dL/dh_l|| for l = 0 (the input) .. depth-1, and "dW",
    ||dL/dW_l|| for l = 1 .. depth (see bpcourse.deep).
    """
    measures = {"dh": deep.activation_gradient_norms, "dW": deep.layer_norms}
    table = {
        f"{quantity}|{activation}|{scale:.3g}|{depth}": measure(activation, scale, depth=depth, width=width)
        for quantity, measure in measures.items()
        for activation in sorted(deep.ACTIVATIONS)
        for scale in scales
        for depth in depths
    }
    return {
        "quantities": {"dh": "dL/dh (activations)", "dW": "dL/dW (weights)"},
        "first_layer": {"dh": 0, "dW": 1},
        "activations": sorted(deep.ACTIVATIONS),
        "scales": [f"{s:.3g}" for s in scales],
        "depths": list(depths),
        "norms": table,
    }


def _placeholder(kind: str, config: dict, fallback: str) -> str:
    data = html.escape(json.dumps(config, separators=(",", ":")), quote=True)
    return f'<div class="bp-explorer" data-kind="{kind}" data-config="{data}"><p>{html.escape(fallback)}</p></div>'


def b3_static_html(**kwargs) -> str:
    """The kernel-free SSR-vs-b3 explorer for the book (rendered by explorer.js)."""
    return _placeholder("b3", b3_config(**kwargs), "The interactive explorer needs JavaScript.")


def norms_static_html(**kwargs) -> str:
    """The kernel-free per-layer gradient-norm explorer for the vanishing-gradients chapter."""
    return _placeholder("norms", norms_config(**kwargs), "The interactive explorer needs JavaScript.")


DIVERGED = 60.0  # |b3| beyond ten plot widths: the descent has diverged, stepping stops


class B3Explorer:
    """The ipywidgets explorer (needs a kernel). State: `.b3`, `.path` (b3 values visited)."""

    def __init__(self, b3_start: float = 0.0, lr: float = 0.1, min_step: float = 0.001):
        import ipywidgets as widgets
        import matplotlib.pyplot as plt

        self.params = dict(b3.TRAINED)
        self.min_step = min_step
        self.slider = widgets.FloatSlider(value=b3_start, min=-1.0, max=5.0, step=0.01, description="b3",
                                          continuous_update=True, readout_format=".2f")  # fmt: skip
        self.rate = widgets.Dropdown(options=list(LEARNING_RATES), value=lr, description="learning rate")
        self.step_button = widgets.Button(description="Step")
        self.run_button = widgets.Button(description="Run")
        self.reset_button = widgets.Button(description="Reset")
        self.table = widgets.HTML()
        self.output = widgets.Output()
        self.path: list[float] = [b3_start]
        self._start = b3_start
        self._stepping = False  # True while step()/reset() move the slider themselves

        with plt.ioff():
            self.figure, (self.left, self.right) = plt.subplots(1, 2, figsize=(10, 3.8))
        dose = np.linspace(0, 1, 101)
        self.left.scatter(b3.DOSAGE, b3.OBSERVED, color="black", zorder=3)
        (self.curve,) = self.left.plot(dose, dose * 0, color="#2e7d32")
        self.residuals = [self.left.plot([x, x], [0, 0], "--", color="#7f7f7f", lw=2)[0] for x in b3.DOSAGE]
        self.left.set(xlabel="dosage", ylabel="efficacy", title="data, network output and residuals",
                      xlim=(-0.1, 1.1), ylim=(-3, 4))  # fmt: skip
        grid = np.linspace(-1, 5, 121)
        self.right.plot(grid, [self._ssr(g) for g in grid], color="#1f4e79")
        (self.point,) = self.right.plot([], [], "o", color="#c0392b")
        (self.tangent,) = self.right.plot([], [], "-", color="#e67e22", lw=2.5)
        (self.trail,) = self.right.plot([], [], "o-", color="#c0392b", ms=3, lw=1, alpha=0.6)
        self.right.set(xlabel="b3", ylabel="SSR", title="SSR(b3), tangent slope = dSSR/db3",
                       xlim=(-1, 5), ylim=(-1, 40))  # fmt: skip
        self.figure.tight_layout()

        self.slider.observe(lambda change: self._moved(), names="value")
        self.step_button.on_click(lambda _: self.step())
        self.run_button.on_click(lambda _: self.run())
        self.reset_button.on_click(lambda _: self.reset())
        controls = widgets.HBox([self.slider, self.rate, self.step_button, self.run_button, self.reset_button])
        self.widget = widgets.VBox([controls, self.output, self.table])
        self._redraw()

    @property
    def b3(self) -> float:
        return float(self.slider.value)

    def _ssr(self, value: float) -> float:
        return b3.ssr(b3.OBSERVED, b3.predict(b3.DOSAGE, {**self.params, "b3": value}))

    def _slope(self, value: float) -> float:
        return b3.dssr_db3(b3.DOSAGE, b3.OBSERVED, {**self.params, "b3": value})

    def step(self) -> bool:
        """One gradient-descent step from the current b3; False once a step is below min_step or
        the descent has diverged far outside the plot (learning rates above 1/3)."""
        if abs(self.b3) > DIVERGED:
            return False
        step = float(self.rate.value) * self._slope(self.b3)
        self._stepping = True
        target = self.b3 - step
        self.slider.max, self.slider.min = max(self.slider.max, target), min(self.slider.min, target)  # diverging
        self.slider.value = target  # the slider is the state; its observer redraws
        self._stepping = False
        self.path.append(self.b3)
        self._redraw()
        return abs(step) >= self.min_step and abs(self.b3) <= DIVERGED

    def run(self, max_steps: int = 1000) -> None:
        for _ in range(max_steps):
            if not self.step():
                break

    def reset(self) -> None:
        self.path = [self._start]
        self._stepping = True
        self.slider.value = self._start
        self._stepping = False
        self._redraw()

    def _moved(self) -> None:
        if not self._stepping:  # moved by hand: a new descent starts here
            self.path = [self.b3]
            self._redraw()

    def _redraw(self) -> None:
        from IPython.display import clear_output, display

        value = self.b3
        dose = self.curve.get_xdata()
        self.curve.set_ydata(b3.predict(dose, {**self.params, "b3": value}))
        predicted = b3.predict(b3.DOSAGE, {**self.params, "b3": value})
        for line, x, o, p in zip(self.residuals, b3.DOSAGE, b3.OBSERVED, predicted, strict=True):
            line.set_data([x, x], [o, p])
        ssr, slope = self._ssr(value), self._slope(value)
        self.point.set_data([value], [ssr])
        span = np.array([value - 1.2, value + 1.2])  # a tangent long enough to read its slope
        self.tangent.set_data(span, ssr + slope * (span - value))
        self.trail.set_data(self.path, [self._ssr(v) for v in self.path])
        rows = "".join(
            f"<tr><td>{i}</td><td>{v:.4f}</td><td>{self._ssr(v):.4f}</td><td>{self._slope(v):.4f}</td>"
            f"<td>{float(self.rate.value) * self._slope(v):.4f}</td></tr>"
            for i, v in enumerate(self.path)
        )
        self.table.value = (
            "<table><tr><th>step</th><th>b3</th><th>SSR</th><th>slope</th><th>step size</th></tr>" + rows + "</table>"
        )
        with self.output:
            clear_output(wait=True)  # one figure, redrawn in place: no flicker, no accumulation
            display(self.figure)
