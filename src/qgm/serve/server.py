"""The MCP server: qgm's tools and resources for AI agents (official Python SDK, ``MCPServer``).

Tools (JSON in, JSON out; a refused request is a tool error with a one-line reason):

==================  ==============================================================
``list_components`` datasets, models, losses, optimizers, metrics, callbacks (with options),
                    examples, claims, and the server's limits
``train``           an example name or config text plus overrides -> ``{"job_id"}`` at once
``plateau_scan``    a barren-plateau scan (small) -> ``{"job_id"}``
``reproduce``       one published claim in quick mode -> ``{"job_id"}``
``job_status``      state (queued, running, done, failed, cancelled, interrupted), progress,
                    last metrics, ETA, result
``job_list``        this client's jobs, newest first
``job_cancel``      stop a queued or running job
``job_resume``      continue an interrupted, failed or cancelled job from its checkpoint
``sample``          samples of a trained run, optionally under a condition on bits
``evaluate``        metrics of a trained run
==================  ==============================================================

Resources by run id (a training job's id): ``qgm://runs/{run_id}/summary``,
``.../metrics``, ``.../config``, ``.../plots`` (the list) and
``.../plots/{name}`` (PNG).

:func:`serve_stdio` and :func:`serve_http` run it; over HTTP a bearer token is
required (:mod:`qgm.serve.auth`) unless the server listens on loopback only.
"""
from __future__ import annotations

import functools
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Annotated, Any, AsyncIterator, Callable, Literal, Mapping, Optional, TypeVar, Union

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from qgm.errors import QGMError
from qgm.serve.auth import StaticTokens, auth_settings, check_bind, client_id
from qgm.serve.service import Service

__all__ = ["build_server", "serve_stdio", "serve_http", "INSTRUCTIONS", "http_url", "TEXT_RESOURCES"]

INSTRUCTIONS = """\
qgm trains quantum generative models (Born machines, quantum GANs, ...) on a state-vector simulator.
Workflow: list_components to see datasets, models and example configs; train with an example name or
a YAML config (plus overrides such as {"train.steps": 100}) to get a job_id; poll job_status until its
state is done (or failed, with the reason); then sample (optionally under a condition such as
"x0=1,x3=0") and evaluate with run_id = that job_id. Requests beyond the server's limits (qubits,
steps, samples, wall time, jobs per client; see list_components) are refused with the limit's name."""

F = TypeVar("F", bound=Callable[..., Any])

ExampleArg = Annotated[Optional[str], Field(description="name of an example config (list_components: examples)")]
ConfigArg = Annotated[Optional[Union[str, dict[str, Any]]], Field(
    description="config as YAML or JSON text, or as an object (instead of an example)")]
OverridesArg = Annotated[Optional[dict[str, Any]], Field(
    description='dotted keys to override, e.g. {"train.steps": 100, "dataset.rows": 2}')]
WallArg = Annotated[Optional[float], Field(description="wall-time limit of the job in seconds (default: the server's)")]
JobIdArg = Annotated[str, Field(description="a job id returned by train, plateau_scan or reproduce")]
RunIdArg = Annotated[str, Field(description="the job id of a finished (or checkpointed) training job")]
SeedArg = Annotated[int, Field(description="sampling seed (same seed, same samples)")]


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _errors_as(error: type[Exception]) -> Callable[[F], F]:
    """A decorator turning a QGMError of a tool or resource into ``error`` (the SDK's tool or resource error,
    which the client reads: one line, no traceback)."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except QGMError as exc:
                raise error(_one_line(exc)) from None

        return wrapper  # type: ignore[return-value]

    return decorate


_tool_errors = _errors_as(ToolError)
_resource_errors = _errors_as(ResourceError)


def _version() -> str:
    try:
        return metadata.version("qgm")
    except metadata.PackageNotFoundError:
        return "0"


def http_url(host: str, port: int) -> str:
    """``http://host:port`` (IPv6 hosts in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host and not host.startswith("[") else f"http://{host}:{port}"


def _register_tools(mcp: MCPServer, service: Service) -> None:
    read_only = ToolAnnotations(read_only_hint=True)

    @mcp.tool(annotations=read_only)
    @_tool_errors
    def list_components() -> dict[str, Any]:
        """List what this server can train and measure: registered datasets, models (with the data spaces they
        train on), losses, optimizers, metrics and callbacks, each with a one-line purpose and its options with
        defaults; the example configs that train or plateau_scan accept by name; the claims reproduce accepts;
        and the server's limits (max_qubits, max_steps, max_samples, max_wall_s, max_jobs_per_client, ...).
        Call it first to build a valid config."""
        return service.list_components()

    @mcp.tool()
    @_tool_errors
    def train(example: ExampleArg = None, config: ConfigArg = None, overrides: OverridesArg = None,
              wall_time_s: WallArg = None) -> dict[str, Any]:
        """Queue a training run and return {"job_id": ...} at once. Give either `example` (an example config's
        name) or `config` (YAML/JSON text or an object with sections name, dataset, model, loss, optimizer, train, metrics, as
        `qgm train` reads), plus optional `overrides` of dotted keys. The config is validated with the same
        schema as the command line and refused when it exceeds the server's limits. Poll job_status with the
        id; when it is done, the id is the run_id of sample, evaluate and the qgm://runs/{run_id}/... resources."""
        return service.train(client_id(), example, config, overrides, wall_time_s)

    @mcp.tool()
    @_tool_errors
    def plateau_scan(example: ExampleArg = None, config: ConfigArg = None, overrides: OverridesArg = None,
                     wall_time_s: WallArg = None) -> dict[str, Any]:
        """Queue a small barren-plateau scan (gradient variance of an ansatz versus the number of qubits, with
        exponential fits) and return {"job_id": ...}. Give `example` (a plateau example) or `config` (keys
        ansatz, n_qubits, depth, cost, n_inits, scans, as `qgm plateau` reads) plus `overrides`. When the job
        is done, job_status's result holds the points and the fitted slopes of log2 Var per qubit."""
        return service.plateau_scan(client_id(), example, config, overrides, wall_time_s)

    @mcp.tool()
    @_tool_errors
    def reproduce(claim: Annotated[str, Field(description="a claim name (list_components: claims)")],
                  wall_time_s: WallArg = None) -> dict[str, Any]:
        """Queue the quick reproduction of one published claim (few seeds, short runs) and return {"job_id": ...}.
        When the job is done, job_status's result holds the paper's value, ours (median and range over seeds),
        the convention and whether the claim passed."""
        return service.reproduce(client_id(), claim, wall_time_s)

    @mcp.tool(annotations=read_only)
    @_tool_errors
    def job_status(job_id: JobIdArg) -> dict[str, Any]:
        """The state of a job: queued, running, done, failed, cancelled or interrupted (the server stopped while
        it ran: job_resume continues it), with times, the error when it failed, and for training jobs the step,
        progress fraction, last logged record, last evaluated metrics and an ETA in seconds; when done, the
        result (a training summary, a scan's fits, a claim's numbers)."""
        return service.job_status(client_id(), job_id)

    @mcp.tool(annotations=read_only)
    @_tool_errors
    def job_list(state: Annotated[Optional[Literal["queued", "running", "done", "failed", "cancelled",
                                                   "interrupted"]], Field(description="only jobs in this state")] = None,
                 limit: Annotated[int, Field(description="at most this many jobs, newest first")] = 50
                 ) -> dict[str, Any]:
        """This client's jobs, newest first: id, kind, state, times and error (job_status has the details)."""
        return service.job_list(client_id(), state, limit)

    @mcp.tool()
    @_tool_errors
    def job_cancel(job_id: JobIdArg) -> dict[str, Any]:
        """Cancel a queued or running job (a running job's process is stopped; its checkpoints stay, so
        job_resume can continue it). Returns the job's status."""
        return service.job_cancel(client_id(), job_id)

    @mcp.tool()
    @_tool_errors
    def job_resume(job_id: JobIdArg) -> dict[str, Any]:
        """Queue an interrupted, failed or cancelled job again. A training job continues bit-exactly from its
        latest checkpoint (like `qgm train --resume`), or starts over if it has none. Returns the job's status."""
        return service.job_resume(client_id(), job_id)

    @mcp.tool(annotations=read_only)
    @_tool_errors
    def sample(run_id: RunIdArg,
               n: Annotated[int, Field(description="number of samples (at most the server's max_samples)")],
               condition: Annotated[Optional[Union[str, list[int]]], Field(
                   description="sample p(x | condition): fixed bits like 'x0=1,x3=0' (wire 0 = leftmost bit) "
                               "or a list of allowed basis indices; models tagged conditional only")] = None,
               method: Annotated[Literal["reject", "amplify", "exact"], Field(
                   description="how to sample under a condition: rejection, amplitude amplification or exact")
                   ] = "reject",
               seed: SeedArg = 0,
               schedule: Annotated[Optional[Literal["bbht", "grover", "zero_failure", "fixed_point"]], Field(
                   description="amplification schedule of method amplify (default bbht: for an unknown "
                               "acceptance probability)")] = None) -> dict[str, Any]:
        """Draw n samples from a trained run (run_id = its training job's id). Bit data come back as rows of
        0/1, as bitstrings (wire 0 first) and as counts of the most frequent ones; other data as rows of
        numbers. With `condition` the samples follow the model's conditional distribution and the answer
        includes the sampler's cost (queries, shots, acceptance). A run trained on molecules (e.g. dataset qm9)
        answers chemistry instead: each valid molecule's SMILES with its QED, logP and SA score, and the
        validity, uniqueness, novelty, drug-likeness and diversity metrics of the n samples."""
        return service.sample(client_id(), run_id, n, condition, method, seed, schedule)

    @mcp.tool(annotations=read_only)
    @_tool_errors
    def evaluate(run_id: RunIdArg,
                 n: Annotated[Optional[int], Field(description="samples drawn (default: the run's n_eval_samples)")
                              ] = None,
                 metrics: Annotated[Optional[list[str]], Field(
                     description="metric names (default: the run's config's metrics)")] = None,
                 seed: SeedArg = 0) -> dict[str, Any]:
        """Evaluate a trained run (run_id = its training job's id): {"metrics": {name: value}} for the run's
        configured metrics or the given ones (e.g. kl, tv, mmd, valid_fraction), from n fresh samples."""
        return service.evaluate(client_id(), run_id, n, metrics, seed)


#: Text resources of a run: ``qgm://runs/{run_id}/<name>`` -> (MIME type, description, Service method name).
TEXT_RESOURCES = {
    "summary": ("application/json", "Final summary of a training run: steps, loss, metrics, parameter count, times.",
                "summary"),
    "metrics": ("application/json", "Every logged record of a training run (step, loss, lr, evaluated metrics) as a "
                "JSON array.", "metrics"),
    "config": ("application/yaml", "The resolved config of a training run (defaults and seeds filled in).", "config"),
    "plots": ("application/json", "The names and URIs of a run's PNG plots.", "plots"),
}


def _text_resource(mcp: MCPServer, name: str, mime: str, description: str, read: Callable[[str, str], str]) -> None:
    @mcp.resource(f"qgm://runs/{{run_id}}/{name}", name=f"run_{name}", mime_type=mime, description=description)
    @_resource_errors
    def resource(run_id: str) -> str:
        return read(client_id(), run_id)


def _register_resources(mcp: MCPServer, service: Service) -> None:
    for name, (mime, description, method) in TEXT_RESOURCES.items():
        _text_resource(mcp, name, mime, description, getattr(service, method))

    @mcp.resource("qgm://runs/{run_id}/plots/{name}", mime_type="image/png")
    @_resource_errors
    def run_plot(run_id: str, name: str) -> bytes:
        """One PNG plot of a run (names from qgm://runs/{run_id}/plots)."""
        return service.plot(client_id(), run_id, name)


def build_server(service: Service, *, tokens: Optional[Mapping[str, str]] = None,
                 url: Optional[str] = None) -> MCPServer:
    """The MCP server over ``service``; with ``tokens`` (``{client: token}``) HTTP requests need a bearer token.

    ``url`` is the server's own address (the token issuer named in the auth settings).
    """

    @asynccontextmanager
    async def lifespan(_: MCPServer) -> AsyncIterator[dict[str, Any]]:
        service.start()
        yield {}

    verifier = StaticTokens(tokens) if tokens else None
    mcp = MCPServer(
        "qgm", title="qgm: quantum generative models", instructions=INSTRUCTIONS, version=_version(),
        token_verifier=verifier, auth=auth_settings(url or "http://127.0.0.1") if verifier else None,
        lifespan=lifespan, log_level="WARNING",
    )
    _register_tools(mcp, service)
    _register_resources(mcp, service)
    return mcp


def serve_stdio(service: Service) -> None:
    """Serve ``service`` over stdin/stdout until the client closes the stream."""
    build_server(service).run("stdio")


def serve_http(service: Service, host: str, port: int, tokens: Mapping[str, str]) -> None:
    """Serve ``service`` over streamable HTTP at ``http://host:port/mcp`` until interrupted."""
    check_bind(host, tokens)
    build_server(service, tokens=tokens, url=http_url(host, port)).run("streamable-http", host=host, port=port)
