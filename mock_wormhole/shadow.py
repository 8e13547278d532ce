# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Shadow-golden execution: real ttnn calls on the mock device, torch values on the side.

A mock device runs every op's host-side code (validation, output specs, program
factories) but executes nothing, so ``ttnn.to_torch`` would return zeros. While a
:class:`ShadowExecution` is active, every ttnn operation's output tensor gets a
*shadow value*: the op's golden function (harness golden from :mod:`.goldens`,
else ``ttnn.get_golden_function(op)``) applied to the shadow values of its inputs,
rounded to the output's dtype (:mod:`.rounding`). ``ttnn.from_torch`` (and
``ttnn.as_tensor``) records the uploaded value (rounded to the tensor's dtype) and ``ttnn.to_torch`` returns the
shadow value. So a test's PCC checks the *composition* of the port (argument
order, permutes, reshapes, slicing, padding semantics, ...) through Tenstorrent's
own statement of every op's semantics.

Mechanics and rules:

* A post-operation hook (``ttnn.register_post_operation_hook``) sees every
  top-level ttnn operation; it needs ``ttnn.CONFIG.enable_fast_runtime_mode =
  False``, set here while active and restored afterwards. Ops called inside
  other ops are not seen: the outer op's golden covers them.
* Shadow values are keyed by tensor identity with a strong reference (a
  ``ttnn.Tensor`` cannot be weak-referenced). Entries only we still reference
  are swept periodically; ``stop()`` drops everything.
* Each value is a list with one torch tensor per device of the tensor's mesh
  (one for a single device); goldens run once per device.
* An op with no golden is a hard :class:`ShadowError` naming it. So is an input
  without a shadow value (e.g. a tensor made by a ``ttnn.Tensor`` method, which
  hooks do not see) and a golden whose shape differs from the op's output shape.
* Goldens receive copies of the stored shadow values: a golden that writes into
  an argument (``.add_()``, ``out=``) cannot change the value of the input tensor
  (cost measured in the README: ~4% of the converter tests' CPU time).
  ``ttnn.from_torch`` never aliases the caller's torch tensor either: mutating it
  after the upload does not change the device value, as on a card.
* Prepared conv weights and biases (``return_weights_and_bias=True``,
  ``ttnn.prepare_conv_*``) remember the conv they were prepared for
  (:class:`~.goldens.ConvSignature`: input batch/height/width/channels, kernel,
  stride, padding, dilation, groups, output padding, shard layout, input and
  weights dtypes). A conv call whose own signature differs is a
  :class:`ShadowError` naming both signatures: on a card the prepared layout
  depends on them and ttnn 0.81.1 does not check (except a weights dtype other
  than conv_config.weights_dtype, and re-preparing a device weight, which it
  rejects itself), so the mix-up would compute garbage.
* A conv input whose last dim is not ``in_channels`` is a :class:`ShadowError`
  (see :mod:`.goldens`: ttnn pads no channels, and the goldens slice none away).
* In-place ops (name ending in ``_``) and ``output_tensor=``-style arguments get
  the result as their new shadow value.
* ``ttnn.Tensor`` methods that read or move values from user code (``to_torch``,
  ``item``, ``to_list``, ``to_numpy``, ``cpu``, ``to``, ``reshape``) are wrapped
  while active, so they agree with the shadow; the raw-layout ones (``pad``,
  ``unpad``, ``pad_to_tile``, ...) raise for shadowed tensors.
* Threads: every ttnn operation (and the Tensor methods above) runs under one re-entrant lock
  while active, so threads may issue ops concurrently: each op sees its own thread's call stack
  and gets its shadow value (``test_mock_device.py::test_threads_issue_ops_concurrently``).
* Python-level helpers that are not registered operations
  (``ttnn.prepare_conv_weights`` & co) are wrapped while active.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import math
import sys
import threading
from typing import Any, Callable

import torch
from loguru import logger

from mock_wormhole.goldens import (  # ShadowError lives there: goldens raise it too
    CONV_OPS,
    HARNESS_GOLDENS,
    PREPARE_OPS,
    ConvSignature,
    Prepared,
    ShadowError,
    conv_signature,
)
from mock_wormhole.rounding import round_to_dtype


# Output-tensor keyword names, as in ttnn.decorators.DEFAULT_OUTPUT_TENSOR_KWARG_NAMES.
_OUTPUT_KWARGS = ("output_tensor", "optional_tensor", "optional_output_tensor", "out", "output")
_PREPARE_FUNCTIONS = (
    "prepare_conv_weights",
    "prepare_conv_bias",
    "prepare_conv_transpose2d_weights",
    "prepare_conv_transpose2d_bias",
)
_UNSUPPORTED_METHODS = ("pad", "unpad", "pad_to_tile", "unpad_from_tile", "to_torch_with_padded_shape", "extract_shard")
_SWEEP_MIN = 256

_active: "ShadowExecution | None" = None


def active() -> "ShadowExecution | None":
    """The running shadow execution, if any."""
    return _active


class ShadowExecution:
    """Context manager / start-stop object running shadow-golden execution."""

    def __init__(self) -> None:
        # id(tensor) -> (tensor, per-device values, what it was prepared for if it is a prepared conv weight/bias)
        self._values: dict[int, tuple[Any, list[torch.Tensor], ConvSignature | None]] = {}
        self._stack: contextlib.ExitStack | None = None
        self._next_sweep = _SWEEP_MIN
        self._lock = threading.RLock()

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> "ShadowExecution":
        global _active
        import ttnn

        if _active is not None:
            raise ShadowError("a shadow execution is already active in this process")
        stack = contextlib.ExitStack()
        previous_fast_mode = ttnn.CONFIG.enable_fast_runtime_mode
        ttnn.CONFIG.enable_fast_runtime_mode = False  # hooks only run in slow mode
        stack.callback(setattr, ttnn.CONFIG, "enable_fast_runtime_mode", previous_fast_mode)
        stack.enter_context(ttnn.register_post_operation_hook(self._post_operation_hook))
        # One thread inside ttnn at a time (re-entrant for ops called by ops): ttnn's operation call
        # stack is one global list, so a thread's op inside another thread's would look nested to the
        # decorator, run without hooks, and its tensors would get no shadow value.
        for cls in (ttnn.decorators.Operation, ttnn.decorators.FastOperation):
            self._patch(stack, cls, "__call__", self._serialised(cls.__call__))
        for name in _PREPARE_FUNCTIONS:
            self._patch(stack, ttnn, name, self._wrap_prepare(name, getattr(ttnn, name)))
        self._patch(stack, ttnn, "synchronize_device", self._wrap_synchronize(ttnn.synchronize_device))
        self._patch(stack, ttnn, "copy_host_to_device_tensor", self._wrap_copy_to_device(ttnn.copy_host_to_device_tensor))
        for name, wrapper in self._method_wrappers(ttnn).items():
            self._patch(stack, ttnn.Tensor, name, wrapper)
        self._stack = stack
        _active = self
        logger.debug("shadow execution started")
        return self

    def stop(self) -> None:
        global _active
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        self._values.clear()
        if _active is self:
            _active = None
        logger.debug("shadow execution stopped")

    def __enter__(self) -> "ShadowExecution":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @staticmethod
    def _patch(stack: contextlib.ExitStack, owner: Any, name: str, replacement: Any) -> None:
        original = getattr(owner, name)
        setattr(owner, name, replacement)
        stack.callback(setattr, owner, name, original)

    # -------------------------------------------------------------- public view
    def has_value(self, tensor: Any) -> bool:
        return id(tensor) in self._values

    def values(self, tensor: Any) -> list[torch.Tensor]:
        """Per-device shadow values of `tensor` (ShadowError when it has none)."""
        entry = self._values.get(id(tensor))
        if entry is None:
            raise ShadowError(
                f"tensor {tuple(tensor.shape)} has no shadow value: it was not produced by a ttnn operation while "
                "shadow execution was active (ttnn.Tensor(...) constructors, and Tensor methods other than "
                "to_torch/cpu/to/reshape, bypass operation hooks)"
            )
        return entry[1]

    def prepared_for(self, tensor: Any) -> ConvSignature | None:
        """The conv a prepared weight/bias was prepared for (None for any other tensor)."""
        entry = self._values.get(id(tensor))
        return None if entry is None else entry[2]

    def value(self, tensor: Any) -> torch.Tensor:
        """Shadow value of a single-device tensor."""
        values = self.values(tensor)
        if len(values) != 1:
            raise ShadowError(f"tensor is on {len(values)} devices; use values()")
        return values[0]

    def __len__(self) -> int:
        return len(self._values)

    def _set(self, tensor: Any, values: list[torch.Tensor], prepared_for: ConvSignature | None = None) -> None:
        self._values[id(tensor)] = (tensor, values, prepared_for)
        if len(self._values) >= self._next_sweep:
            self._sweep()

    def _serialised(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return function(*args, **kwargs)

        return call

    def _wrap_synchronize(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """`ttnn.synchronize_device` also sweeps the table: after it (and a `gc.collect()`), the allocator
        shows freed tensors as freed, as a card's would, to code that knows nothing of the mock."""

        @functools.wraps(function)
        def synchronize(*args: Any, **kwargs: Any) -> Any:
            result = function(*args, **kwargs)
            self._sweep()
            return result

        return synchronize

    def _wrap_copy_to_device(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """`ttnn.copy_host_to_device_tensor(host, device_tensor)` writes into an existing device tensor (a
        persistent input of a traced region): the device tensor takes the host tensor's value."""

        @functools.wraps(function)
        def copy(host: Any, device_tensor: Any, *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                result = function(host, device_tensor, *args, **kwargs)
                name = "ttnn.copy_host_to_device_tensor"
                values = [_copy(v) for v in self._values_for_input(name, host)]
                self._set(device_tensor, [_conform(name, v, tuple(device_tensor.shape), "copied value") for v in values])
                return result

        return copy

    def _sweep(self) -> None:
        """Drop entries whose tensor is referenced only by this table (it can never be used again)."""
        # References to `tensor` below: the entry tuple, the loop variable, getrefcount's argument.
        dead = [key for key, (tensor, *_) in self._values.items() if sys.getrefcount(tensor) <= 3]
        for key in dead:
            del self._values[key]
        self._next_sweep = max(_SWEEP_MIN, 2 * len(self._values))

    # --------------------------------------------------------------------- hook
    def _post_operation_hook(self, operation: Any, args: tuple, kwargs: dict, output: Any) -> None:
        name = operation.python_fully_qualified_name
        if name in ("ttnn.from_torch", "ttnn.as_tensor"):
            self._record_from_torch(name, args, kwargs, output)
        elif name == "ttnn.to_torch":
            self._fill_to_torch(name, args, kwargs, output)
        elif name == "ttnn.deallocate":
            tensor = args[0] if args else kwargs["tensor"]
            self._values.pop(id(tensor), None)
        else:
            self._apply_golden(name, operation, args, kwargs, output)

    def _golden_for(self, name: str, operation: Any) -> Callable[..., Any]:
        if name in HARNESS_GOLDENS:
            return _checking_arguments(name, HARNESS_GOLDENS[name], harness=True)
        if operation is not None and operation.golden_function is not None:
            return _checking_arguments(name, operation.golden_function, harness=False)
        raise ShadowError(
            f"{name} has no golden function (neither ttnn's nor the harness's): shadow execution cannot "
            "compute its output; add one to mock_wormhole/goldens.py"
        )

    def _apply_golden(self, name: str, operation: Any, args: tuple, kwargs: dict, output: Any) -> None:
        import ttnn

        if not _contains_tensor(output):
            # Nothing to track (ttnn.manual_seed, ttnn.dump_tensor ...) unless the op wrote into an input.
            writes_input = name.endswith("_") or "cache" in name or any(
                isinstance(kwargs.get(k), ttnn.Tensor) for k in _OUTPUT_KWARGS
            )
            if writes_input:
                raise ShadowError(f"{name} modifies a tensor in place without returning it: not supported")
            return
        golden = self._golden_for(name, operation)
        signature = None
        if name in CONV_OPS or name in PREPARE_OPS:
            try:
                signature = conv_signature(name, kwargs)
            except (KeyError, TypeError, ValueError) as error:
                detail = f"{type(error).__name__}: {error}"
                raise ShadowError(f"{name}: cannot read the conv's arguments: {detail}") from None
        if name in CONV_OPS:
            self._check_prepared_inputs(name, kwargs, signature)
        num_devices = max([len(v) for v in self._input_values(name, (args, kwargs))] or [_num_devices(output)])
        results = []
        for index in range(num_devices):
            golden_args = self._substitute(name, args, index)
            golden_kwargs = self._substitute(name, kwargs, index)
            if getattr(HARNESS_GOLDENS.get(name), "wants_dtypes", False):
                golden_kwargs["dtypes"] = _dtypes_of(args, kwargs, output)
            try:
                results.append(golden(*golden_args, **golden_kwargs))
            except ShadowError:
                raise
            except Exception as error:
                raise ShadowError(f"{name}: golden function failed: {type(error).__name__}: {error}") from error
        self._assign(name, output, results, signature)
        # In-place forms write their result into the first argument or an output-tensor argument.
        targets = [args[0]] if name.endswith("_") and args and isinstance(args[0], ttnn.Tensor) else []
        targets += [kwargs[k] for k in _OUTPUT_KWARGS if isinstance(kwargs.get(k), ttnn.Tensor)]
        if name == "ttnn.copy":
            targets.append(args[1] if len(args) > 1 else kwargs["input_b"])
        for target in targets:
            if target is not output and isinstance(output, ttnn.Tensor) and self.has_value(output):
                self._set(target, self.values(output))

    def _check_prepared_inputs(self, name: str, kwargs: dict, signature: ConvSignature) -> None:
        """A prepared weight/bias must be used by a conv with the signature it was prepared for."""
        import ttnn

        for key in ("weight_tensor", "bias_tensor"):
            tensor = kwargs.get(key)
            prepared = self.prepared_for(tensor) if isinstance(tensor, ttnn.Tensor) else None
            if prepared is None:
                continue  # a host (or raw device) weight: this call prepares it
            used_for = signature.resolved(tensor.dtype)
            differences = prepared.mismatches(used_for)
            if differences:
                raise ShadowError(
                    f"{name}: {key} was prepared for {prepared} but is used for {used_for}; "
                    f"differs in {'; '.join(differences)}. The prepared layout depends on the input shape, "
                    "kernel geometry, sharding and dtypes: prepare (or cache) it per conv input shape"
                )

    # ----------------------------------------------------- inputs and outputs
    def _input_values(self, name: str, structure: Any) -> list[list[torch.Tensor]]:
        import ttnn

        found: list[list[torch.Tensor]] = []

        def visit(obj: Any) -> None:
            if isinstance(obj, ttnn.Tensor):
                found.append(self._values_for_input(name, obj))
            elif isinstance(obj, (list, tuple)):
                for item in obj:
                    visit(item)
            elif isinstance(obj, dict):
                for item in obj.values():
                    visit(item)

        visit(structure)
        return found

    def _values_for_input(self, name: str, tensor: Any) -> list[torch.Tensor]:
        try:
            return self.values(tensor)
        except ShadowError as error:
            raise ShadowError(f"{name}: input {error}") from None

    def _substitute(self, name: str, obj: Any, index: int) -> Any:
        import ttnn

        if isinstance(obj, ttnn.Tensor):
            values = self._values_for_input(name, obj)
            # A copy: a golden writing into its argument must not change the stored value.
            return _copy(values[index] if len(values) > 1 else values[0])
        if isinstance(obj, ttnn.Shape):
            return tuple(obj)
        if isinstance(obj, tuple):
            return tuple(self._substitute(name, item, index) for item in obj)
        if isinstance(obj, list):
            return [self._substitute(name, item, index) for item in obj]
        if isinstance(obj, dict):
            return {key: self._substitute(name, item, index) for key, item in obj.items()}
        return obj

    def _assign(self, name: str, output: Any, results: list[Any], signature: ConvSignature | None = None) -> None:
        """Store golden `results` (one per device) as the shadow values of the tensors in `output`.

        `signature` (conv and prepare calls) is what a :class:`Prepared` result was prepared for,
        unless the golden names it.
        """
        import ttnn

        if isinstance(output, ttnn.Tensor):
            values = []
            prepared_for = None
            for result in results:
                check_shape = not isinstance(result, Prepared)
                if isinstance(result, Prepared):
                    prepared_for = result.prepared_for or signature
                    if prepared_for is None:
                        raise ShadowError(f"{name}: golden returned a prepared weight without saying what for")
                    prepared_for = prepared_for.resolved(output.dtype)
                    result = result.value
                if isinstance(result, (list, tuple)) and len(result) == 1:
                    result = result[0]
                if not isinstance(result, torch.Tensor):
                    raise ShadowError(f"{name}: golden returned {type(result).__name__} for a tensor output")
                expected = tuple(output.shape)
                if check_shape and tuple(result.shape) != expected:
                    raise ShadowError(
                        f"{name}: golden output shape {tuple(result.shape)} != device output shape {expected}"
                    )
                values.append(round_to_dtype(result.detach(), output.dtype))
            self._set(output, values, prepared_for)
        elif isinstance(output, (list, tuple)):
            for position, item in enumerate(output):
                parts = []
                for result in results:
                    if not isinstance(result, (list, tuple)) or len(result) != len(output):
                        raise ShadowError(
                            f"{name}: golden returned {type(result).__name__} "
                            f"{'of length ' + str(len(result)) if isinstance(result, (list, tuple)) else ''} "
                            f"where the op returned a {type(output).__name__} of length {len(output)}"
                        )
                    parts.append(result[position])
                self._assign(name, item, parts, signature)
        # Other outputs (None, ints such as conv output lengths) carry no tensor value.

    def _record_from_torch(self, name: str, args: tuple, kwargs: dict, output: Any) -> None:
        source = args[0] if args else kwargs["tensor"]
        if kwargs.get("preprocess") is not None:  # ttnn.as_tensor's callback on the torch input
            source = kwargs["preprocess"](source)
        source = torch.as_tensor(source).detach()
        value = round_to_dtype(source, output.dtype)
        if value.untyped_storage().data_ptr() == source.untyped_storage().data_ptr():
            value = _copy(value)  # the device holds a copy: later writes to `source` must not reach it
        shape = tuple(output.shape)
        if _topology_size(output) == 1 or value.numel() == math.prod(shape):
            # One device, or replicated on a mesh: the device tensor holds the whole value.
            value = _conform(name, value, shape, "uploaded value")
        self._set(output, _split_for_mesh(name, value, output))  # sharded: each shard's shape is checked

    def _fill_to_torch(self, name: str, args: tuple, kwargs: dict, output: torch.Tensor) -> None:
        tensor = args[0] if args else kwargs["tensor"]
        values = self._values_for_input(name, tensor)
        composed = _compose_for_mesh(values, tensor, tuple(output.shape))
        # ttnn.to_torch(t, torch_rank=r) squeezes leading 1s off the device tensor's shape.
        output.copy_(_conform(name, composed, tuple(output.shape), "shadow value"))

    # ------------------------------------------------- non-operation wrappers
    def _wrap_prepare(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        from ttnn.decorators import OPERATION_CALL_STACK

        @functools.wraps(function)
        def prepare(*args: Any, **kwargs: Any) -> Any:
            output = function(*args, **kwargs)
            if OPERATION_CALL_STACK:  # called by a ttnn op: that op's golden covers it
                return output
            self._apply_golden(f"ttnn.{name}", None, args, kwargs, output)
            return output

        return prepare

    def _method_wrappers(self, ttnn: Any) -> dict[str, Callable[..., Any]]:
        """Tensor methods, as seen from user code (ttnn's own internals keep the originals)."""
        from ttnn.decorators import OPERATION_CALL_STACK

        shadow = self
        wrappers: dict[str, Callable[..., Any]] = {}

        def from_user(method: Callable[..., Any], body: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(method)
            def wrapper(tensor: Any, *args: Any, **kwargs: Any) -> Any:
                with shadow._lock:
                    if OPERATION_CALL_STACK or not shadow.has_value(tensor):
                        return method(tensor, *args, **kwargs)
                    return body(tensor, *args, **kwargs)

            return wrapper

        def value_preserving(method_name: str, keeps_layout: bool) -> None:
            method = getattr(ttnn.Tensor, method_name)

            def body(tensor: Any, *args: Any, **kwargs: Any) -> Any:
                result = method(tensor, *args, **kwargs)
                values = shadow.values(tensor)
                shape = tuple(result.shape)
                # Moving a prepared weight keeps its prepared layout; a reshape makes it something else.
                prepared_for = shadow.prepared_for(tensor) if keeps_layout else None
                shadow._set(result, [v.reshape(shape) if tuple(v.shape) != shape else v for v in values], prepared_for)
                return result

            wrappers[method_name] = from_user(method, body)

        value_preserving("cpu", keeps_layout=True)
        value_preserving("to", keeps_layout=True)
        value_preserving("reshape", keeps_layout=False)

        to_torch_method = ttnn.Tensor.to_torch

        def to_torch_body(tensor: Any, *args: Any, **kwargs: Any) -> Any:
            output = to_torch_method(tensor, *args, **kwargs)
            shadow._fill_to_torch("ttnn.Tensor.to_torch", (tensor,), {}, output)
            return output

        wrappers["to_torch"] = from_user(to_torch_method, to_torch_body)

        def reader(method_name: str, convert: Callable[[torch.Tensor, Any], Any]) -> None:
            method = getattr(ttnn.Tensor, method_name)

            def body(tensor: Any, *args: Any, **kwargs: Any) -> Any:
                return convert(shadow.value(tensor), method(tensor, *args, **kwargs))

            wrappers[method_name] = from_user(method, body)

        reader("item", lambda value, raw: type(raw)(value.reshape(-1)[0].item()))
        reader("to_list", lambda value, raw: value.tolist())
        reader("to_numpy", lambda value, raw: value.numpy().astype(raw.dtype))

        for method_name in _UNSUPPORTED_METHODS:
            method = getattr(ttnn.Tensor, method_name)

            def refuse(tensor: Any, *args: Any, _name: str = method_name, **kwargs: Any) -> Any:
                raise ShadowError(f"ttnn.Tensor.{_name} is not supported on shadowed tensors (mock device)")

            wrappers[method_name] = from_user(method, refuse)
        return wrappers


# Keyword arguments that place or schedule an op without changing its values (the output dtype is
# applied by the harness itself, when it rounds the result to the output tensor's dtype).
PLACEMENT_ARGUMENTS = frozenset(
    {
        "memory_config", "dtype", "program_config", "core_grid", "queue_id", "device", "layout", "output_tile",
        "sub_core_grids", "use_multicore", "slice_config", "return_output_dim", "return_weights_and_bias",
        "global_cb", "sub_device_id", "pad_value", "fp32_dest_acc_en_for_output", "mesh_mapper",
    }
)  # fmt: skip
# Arguments ttnn's own goldens declare but ignore, or that only the harness's numerics model: an op
# whose golden is ttnn's may not receive them (the harness golden of the op must handle them).
NUMERIC_ARGUMENTS = frozenset({"compute_kernel_config", "compute_config", "fast_and_approximate_mode", "numeric_stable"})


@functools.lru_cache(maxsize=None)
def _checking_arguments(name: str, function: Callable[..., Any], harness: bool) -> Callable[..., Any]:
    """`function` called with the op's arguments, refusing any it does not understand.

    Understood: the golden's named parameters (for ttnn's goldens, minus the numeric arguments they
    ignore) and :data:`PLACEMENT_ARGUMENTS`. Anything else is a :class:`ShadowError`: an argument
    dropped silently could change a card's numbers without changing the shadow's.
    """
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return function
    named = {n for n, p in parameters.items() if p.kind not in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.VAR_KEYWORD)}
    if harness:
        accepts = getattr(function, "accepts", ())
        if accepts is None:  # the golden takes every argument itself
            return function
        named |= set(accepts) | ({"dtypes"} if getattr(function, "wants_dtypes", False) else set())
    else:
        named -= NUMERIC_ARGUMENTS
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        unknown = sorted(k for k in kwargs if k not in named and k not in PLACEMENT_ARGUMENTS)
        if unknown:
            raise ShadowError(
                f"{name}: argument(s) {', '.join(unknown)} not understood by the harness: they may change a card's "
                "result; model them in mock_wormhole/goldens.py (or list a value-neutral one in PLACEMENT_ARGUMENTS)"
            )
        if not takes_any:
            kwargs = {k: v for k, v in kwargs.items() if k in named}
        return function(*args, **kwargs)

    return call


def _dtypes_of(args: tuple, kwargs: dict, output: Any) -> dict[Any, str]:
    """Names of the ttnn dtypes of a call's tensor arguments (by position or keyword) and of its
    first output ("output"): what the kernels' formats, and ttnn's default compute configs, follow."""
    import ttnn

    found: dict[Any, str] = {i: a.dtype.name for i, a in enumerate(args) if isinstance(a, ttnn.Tensor)}
    found.update({k: v.dtype.name for k, v in kwargs.items() if isinstance(v, ttnn.Tensor)})
    first = output[0] if isinstance(output, (list, tuple)) and output else output
    if isinstance(first, ttnn.Tensor):
        found["output"] = first.dtype.name
    return found


def _copy(value: torch.Tensor) -> torch.Tensor:
    """A private (contiguous) copy of a shadow value.

    Made by numpy's single-threaded memcpy: torch's clone runs on OpenMP threads and, on a CPU
    shared by several test processes, measured 30-100x slower for the common 0.25-4 MB values
    (0.12-0.18 GB/s against 4-30 GB/s for numpy, 2 cores at load 13).
    """
    try:
        return torch.from_numpy(value.numpy().copy())
    except (TypeError, RuntimeError):  # dtypes numpy lacks (bfloat16), tensors that need grad
        return value.clone()


def _contains_tensor(output: Any) -> bool:
    import ttnn

    if isinstance(output, ttnn.Tensor):
        return True
    return isinstance(output, (list, tuple)) and any(_contains_tensor(item) for item in output)


def _num_devices(output: Any) -> int:
    import ttnn

    if isinstance(output, ttnn.Tensor):
        return _topology_size(output)
    if isinstance(output, (list, tuple)):
        for item in output:
            if isinstance(item, (ttnn.Tensor, list, tuple)):
                return _num_devices(item)
    return 1


def _topology_size(tensor: Any) -> int:
    return math.prod(int(d) for d in tensor.tensor_topology().distribution_shape())


def _shard_dims(tensor: Any) -> list[tuple[int, int]]:
    """(mesh axis, tensor dim) for each sharded placement of a mesh tensor."""
    import ttnn

    return [
        (axis, placement.dim)
        for axis, placement in enumerate(tensor.tensor_topology().placements())
        if isinstance(placement, ttnn.PlacementShard)
    ]


def _split_for_mesh(name: str, value: torch.Tensor, tensor: Any) -> list[torch.Tensor]:
    """Per-device values of a tensor uploaded from `value`, following its mesh placements."""
    count = _topology_size(tensor)
    if count == 1:
        return [value]
    distribution = [int(d) for d in tensor.tensor_topology().distribution_shape()]
    shards = []
    for index in range(count):
        coordinates, rest = [], index
        for size in reversed(distribution):
            coordinates.insert(0, rest % size)
            rest //= size
        shard = value
        for axis, dim in _shard_dims(tensor):
            shard = torch.tensor_split(shard, distribution[axis], dim=dim)[coordinates[axis]]
        if tuple(shard.shape) != tuple(tensor.shape):
            shapes = f"{tuple(shard.shape)} != device tensor shape {tuple(tensor.shape)}"
            raise ShadowError(f"{name}: shard shape {shapes}")
        shards.append(shard.contiguous())
    return shards


def _strip_leading_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    index = 0
    while index < len(shape) and shape[index] == 1:
        index += 1
    return shape[index:]


def _conform(name: str, value: torch.Tensor, shape: tuple[int, ...], what: str) -> torch.Tensor:
    """`value` in `shape` when the two differ only by leading 1s, else a ShadowError naming op and shapes.

    The one legitimate rank difference between a shadow value and the host/device tensor is in
    leading 1s: ``ttnn.to_torch(t, torch_rank=r)`` squeezes them (and ttnn's 4D promotion adds
    them). Any other difference with a matching element count would be a silent transpose-like
    corruption of the value, so it is an error.
    """
    if tuple(value.shape) == shape:
        return value
    if _strip_leading_ones(tuple(value.shape)) == _strip_leading_ones(shape):
        return value.reshape(shape)
    raise ShadowError(f"{name}: {what} shape {tuple(value.shape)} != tensor shape {shape}")


def _compose_for_mesh(values: list[torch.Tensor], tensor: Any, output_shape: tuple[int, ...]) -> torch.Tensor:
    """The host tensor a mesh composer builds from per-device values (concatenation along one dim).

    The composer object is opaque, so the dim is the tensor's shard dim if it has one, else the first
    dim along which concatenating all device values gives the requested output shape.
    """
    if len(values) == 1:
        return values[0]
    shard_dims = _shard_dims(tensor)
    candidates = [dim for _, dim in shard_dims] + list(range(values[0].dim()))
    for dim in candidates:
        joined = torch.cat(values, dim=dim)
        if tuple(joined.shape) == output_shape:
            return joined
    if all(torch.equal(values[0], v) for v in values[1:]) and tuple(values[0].shape) == output_shape:
        return values[0]
    shapes = f"{len(values)} device values of shape {tuple(values[0].shape)}"
    raise ShadowError(f"cannot compose {shapes} into {output_shape}")
