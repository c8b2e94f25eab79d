"""``qgm art``: quantum image brushes and quantum latent seeds.

    qgm art blur IMG --theta 0.3 --out b.png [--frames N]
    qgm art mix IMG IMG2 --t 0.5 --out m.png [--frames N] [--method swap|interfere]
    qgm art collage IMG --gates h:x0,cx:y0>x2 --out c.png
    qgm art decohere IMG --channel dephasing --gamma 0.8 --wires y0,y1 --out d.png [--frames N]
    qgm art train-seeds RUN [--quick] [--seed S]
    qgm art seeds RUN --source qcbm|noise|gauss --n 64 --out grid.png
    qgm art study [--quick] [--json results.json] [--markdown table.md]

IMG is a PNG/JPEG file or ``builtin:NAME`` (``china``, ``flower``, ``digit0`` …
``digit9``). ``--frames N`` writes ``OUT_000.png`` … sweeping the strength from 0
to the given value; strength 0 (``--theta 0``, ``--t 0``, ``--gamma 0``) gives the
input back and ``--t 1`` the second image. Wires are named ``x0`` / ``y0`` (column /
row address bit, finest scale first), ``c0`` (channel or colour wire) or a number.
"""
from __future__ import annotations

import argparse
import json
import math

from qgm.cli.core import command, output_file
from qgm.errors import ConfigError

_CHANNELS = {"dephasing": "PhaseDamping", "depolarizing": "Depolarizing", "damping": "AmplitudeDamping"}


# ---------------------------------------------------------------------------- shared options
def _image_args(p: argparse.ArgumentParser, second: bool = False) -> None:
    p.add_argument("image", metavar="IMG", help="PNG/JPEG file or builtin:NAME (china, flower, digit0..digit9)")
    if second:
        p.add_argument("image2", metavar="IMG2", help="the second image (resized to the first)")
    p.add_argument("--out", required=True, help="output PNG (with --frames: OUT_000.png, OUT_001.png, …)")
    p.add_argument("--frames", type=int, default=1, help="frames sweeping the strength from 0 to its value")
    p.add_argument("--size", help="resize to N or HxW pixels first")
    p.add_argument("--grey", action="store_true", help="convert to grey first")
    p.add_argument("--encoding", choices=("heightmap", "frqi", "neqr"), default="heightmap")
    p.add_argument("--log", action="store_true", help="QuantumBlur's log height map")
    p.add_argument("--normalise", choices=("mass", "max"), default="mass",
                   help="decode with the stored pixel mass (exact at strength 0) or QuantumBlur's max")
    p.add_argument("--channel-qubits", action="store_true", help="colour channels on 2 extra qubits (height map)")
    p.add_argument("--address", choices=("gray", "binary"), default="gray", help="height-map address map")
    p.add_argument("--bits", type=int, default=8, help="NEQR grey-value qubits")
    p.add_argument("--tile", help="encode HxW tiles as separate states")
    p.add_argument("--shots", type=int, help="measure with this many shots per state (grain)")
    p.add_argument("--seed", type=int, default=0, help="seed of shots and trajectories")
    p.add_argument("--scale", type=int, default=1, help="enlarge the PNG by this factor (nearest neighbour)")


def _encoding(args: argparse.Namespace, space, tile=None):
    from qgm.art import FRQI, NEQR, HeightMap
    from qgm.art.render import parse_size

    tile = parse_size(args.tile) if args.tile else tile
    if args.encoding == "frqi":
        return FRQI(space, tile=tile)
    if args.encoding == "neqr":
        return NEQR(space, bits=args.bits, tile=tile)
    return HeightMap(space, log=args.log, normalise=args.normalise, channel_qubits=args.channel_qubits,
                     address=args.address, tile=tile)


def _check_budget(args: argparse.Namespace, h: int, w: int, channels: int) -> None:
    """Refuse, before any state or PNG is made, ``--frames`` images of ``h`` x ``w`` x ``channels`` pixels whose
    quantum states (:data:`~qgm.limits.STATE_COPIES` copies of about ``2 · pixels · 2**bits`` complex128
    amplitudes per frame and trajectory) or enlarged PNG frames exceed the memory budget."""
    from qgm.limits import STATE_COPIES, check_bytes

    frames, trajectories = args.frames, getattr(args, "trajectories", None) or 1
    per_pixel = 2 ** min(args.bits, 16) if args.encoding == "neqr" else 2  # more bits: NEQR names the range
    check_bytes(16 * STATE_COPIES * per_pixel * h * w * channels * frames * trajectories, "--size/--frames",
                f"{frames} frame(s) x {trajectories} trajectory(ies) of a {h}x{w} image as quantum states",
                "use a smaller --size, fewer --frames or fewer --trajectories")
    check_bytes(2 * frames * h * w * channels * args.scale**2, "--scale",
                f"{frames} PNG frame(s) of {h * args.scale}x{w * args.scale} pixels", "use a smaller --scale")


def _load(args: argparse.Namespace):
    """The image of ``IMG`` and its space, after checking that its states and frames fit in memory."""
    from qgm.art import load_image
    from qgm.art.render import parse_size

    size = parse_size(args.size)
    if size is not None:
        _check_budget(args, *size, 1 if args.grey else 3)
    x, space = load_image(args.image, size=size, grey=args.grey)
    _check_budget(args, space.h, space.w, space.channels)
    return x, space


def _strengths(value: float, frames: int):
    """The strength itself (one frame) or ``frames`` strengths from 0 to it."""
    import torch

    from qgm.art import sweep

    return sweep(value, frames) if frames > 1 else torch.tensor(float(value), dtype=torch.float64)


def _finish(args: argparse.Namespace, encoded, space) -> int:
    """Grain (``--shots``), decode, write the frames, print their paths."""
    import torch

    from qgm.art import grain, save_frames

    g = torch.Generator().manual_seed(args.seed)
    if args.shots:
        encoded = grain(encoded, args.shots, g)
    paths = save_frames(args.out, encoded.decode().reshape(-1, space.n_pixels), space, args.scale)
    print(json.dumps({"wrote": [str(p) for p in paths], "qubits": encoded.n_qubits,
                      "states_per_image": encoded.encoding.states_per_image}))
    return 0


def _wire(name: str, encoding) -> int:
    """``x3`` / ``y0`` / ``c1`` / ``5`` -> a wire of ``encoding``."""
    text = name.strip().lower()
    grid = encoding.grid
    table = {"x": grid.x_wires, "y": grid.y_wires, "c": tuple(range(encoding.prefix))}
    try:
        if text[:1] in table:
            return table[text[0]][int(text[1:])]
        return int(text)
    except (ValueError, IndexError):
        raise ConfigError(f"wire {name!r}: expected x0..x{len(grid.x_wires) - 1}, y0..y{len(grid.y_wires) - 1}"
                          + (f", c0..c{encoding.prefix - 1}" if encoding.prefix else "") + " or a wire number") from None


def _wires(text: str, encoding) -> list[int]:
    return [_wire(w, encoding) for w in text.split(",") if w.strip()]


# ---------------------------------------------------------------------------- art
def _art_args(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="art_command", metavar="ACTION", required=True)
    b = sub.add_parser("blur", help="QuantumBlur's blur: RX(theta * rate) on every address wire")
    _image_args(b)
    b.add_argument("--theta", type=float, required=True, help="largest rotation angle in radians (0 = no blur)")
    b.add_argument("--axis", choices=("x", "y"), default="x", help="RX (smooth) or RY (interfering) rotations")
    m = sub.add_parser("mix", help="partial swap or interference of two images: t=0 the first, t=1 the second")
    _image_args(m, second=True)
    m.add_argument("--t", type=float, required=True, help="swap fraction (SWAP**t on every qubit pair)")
    m.add_argument("--method", choices=("swap", "interfere"), default="swap",
                   help="swap: QuantumBlur's partial swap of every qubit pair; interfere: cos|a> + sin|b> blend")
    m.add_argument("--out2", help="also write the second register's image here (swap)")
    c = sub.add_parser("collage", help="fixed gates on address qubits (Heaney-style): h:x0,cx:y0>x2")
    _image_args(c)
    c.add_argument("--gates", required=True, help="comma-separated GATE:WIRE[>WIRE] items, e.g. h:x0,cx:y0>x2,x:c0")
    d = sub.add_parser("decohere", help="H, a noise channel, H on chosen wires: lost interference")
    _image_args(d)
    d.add_argument("--channel", choices=tuple(_CHANNELS), default="dephasing")
    d.add_argument("--gamma", type=float, required=True, help="channel strength in [0, 1] (0 = the input back)")
    d.add_argument("--wires", required=True, help="comma-separated wires, e.g. y0,y1,x0")
    d.add_argument("--basis", choices=("x", "z"), default="x", help="x: H-channel-H; z: the channel alone")
    d.add_argument("--trajectories", type=int, help="sampled quantum trajectories (default: exact branches)")
    t = sub.add_parser("train-seeds", help="train the latent-seed kit (digit VAE, Born machine, noisy circuit)")
    t.add_argument("run", metavar="RUN", help="folder to write the kit into")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--quick", action="store_true", help="the CI short mode (tiny, untrained-looking)")
    s = sub.add_parser("seeds", help="a grid of digits generated from one latent source")
    s.add_argument("run", metavar="RUN", help="a folder made by `qgm art train-seeds`")
    s.add_argument("--source", choices=("qcbm", "noise", "gauss"), required=True)
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--out", required=True, help="output PNG")
    s.add_argument("--seed", type=int, default=0, help="seed of the latent draws")
    s.add_argument("--scale", type=int, default=4, help="enlarge the PNG by this factor")
    st = sub.add_parser("study", help="the latent-seed study (5 seeds; --quick for CI)")
    st.add_argument("--quick", action="store_true")
    st.add_argument("--seeds", help="comma-separated seeds (default 0,1,2,3,4)")
    st.add_argument("--json", help="write the full results here")
    st.add_argument("--markdown", help="write the summary table here")


def _blur(args: argparse.Namespace) -> int:
    from qgm.art import blur

    x, space = _load(args)
    return _finish(args, blur(_encoding(args, space).encode(x), _strengths(args.theta, args.frames), args.axis), space)


def _mix_tile(space, budget: int = 1 << 22):
    """Whole image when the joint register of two images stays small, else the largest square
    power-of-two tile with ``tiles · channels · (tile pixels)² <= budget`` amplitudes."""
    from qgm.art.brushes import MAX_JOINT_QUBITS
    from qgm.art.encodings import Grid

    whole = Grid(space.h, space.w, "gray", 0).n
    if 2 * whole <= 16:
        return None
    side = 1
    while (space.h % (2 * side) == 0 and space.w % (2 * side) == 0 and 4 * int(math.log2(2 * side)) <= MAX_JOINT_QUBITS
           and space.h * space.w * space.channels * (2 * side) ** 2 <= budget):
        side *= 2
    if side == 1:
        raise ConfigError(f"IMG: no tile of {space.h}x{space.w} fits a two-image register; pass --tile or --size")
    return (side, side)


def _mix(args: argparse.Namespace) -> int:
    import torch

    from qgm.art import interfere, load_image, partial_swap, save_frames, stack_frames

    a, space = _load(args)
    b, space_b = load_image(args.image2, size=(space.h, space.w), grey=space.channels == 1)
    if space_b != space:
        raise ConfigError(f"IMG2: {space_b.describe()} cannot mix with {space.describe()}; pass --grey")
    if args.method == "interfere":
        enc = _encoding(args, space)
        return _finish(args, interfere(enc.encode(a), enc.encode(b), _strengths(args.t, args.frames)), space)
    enc = _encoding(args, space, _mix_tile(space))
    ea, eb = enc.encode(a), enc.encode(b)
    ts = _strengths(args.t, args.frames).reshape(-1)
    pairs = [partial_swap(ea, eb, float(t)) for t in ts]  # one frame at a time: the joint register is large
    first = stack_frames([p[0] for p in pairs]) if args.frames > 1 else pairs[0][0]
    code = _finish(args, first, space)
    if args.out2:
        second = torch.stack([p[1].decode() for p in pairs]).reshape(-1, space.n_pixels)
        print(json.dumps({"wrote": [str(p) for p in save_frames(args.out2, second, space, args.scale)]}))
    return code


def _gate_list(text: str, encoding) -> list[tuple[str, list[int]]]:
    out = []
    for item in text.split(","):
        name, _, wires = item.partition(":")
        if not wires:
            raise ConfigError(f"--gates: item {item!r} needs GATE:WIRE (e.g. h:x0 or cx:y0>x2)")
        out.append((name.strip(), [_wire(w, encoding) for w in wires.split(">")]))
    return out


def _collage(args: argparse.Namespace) -> int:
    from qgm.art import collage

    x, space = _load(args)
    enc = _encoding(args, space)
    return _finish(args, collage(enc.encode(x), _gate_list(args.gates, enc)), space)


def _decohere(args: argparse.Namespace) -> int:
    import torch

    from qgm import sim
    from qgm.art import decohere, stack_frames

    x, space = _load(args)
    enc = _encoding(args, space)
    e = enc.encode(x)
    wires = _wires(args.wires, enc)
    g = torch.Generator().manual_seed(args.seed)
    gammas = _strengths(args.gamma, args.frames).reshape(-1)
    frames = [decohere(e, getattr(sim, _CHANNELS[args.channel])(float(v)), wires, basis=args.basis,
                       trajectories=args.trajectories, generator=g) for v in gammas]
    return _finish(args, stack_frames(frames) if args.frames > 1 else frames[0], space)


def _train_seeds(args: argparse.Namespace) -> int:
    from qgm.art.seeds import train_kit
    from qgm.art.study import QUICK, STUDY, _digits_split

    s = QUICK if args.quick else STUDY
    train, _, _ = _digits_split()
    kit = train_kit(train, seed=args.seed, latent_dim=s["latent_dim"], bits_per_dim=s["bits_per_dim"],
                    vae_steps=s["vae_steps"], qcbm_steps=s["qcbm_steps"], qcbm_depth=s["qcbm_depth"])
    print(json.dumps({"wrote": str(kit.save(args.run)), "latent_dim": kit.latent_dim, "qubits": kit.qcbm.space.n}))
    return 0


def _seeds(args: argparse.Namespace) -> int:
    import torch

    from qgm.art.render import save_image, tile_grid
    from qgm.art.seeds import SeedKit
    from qgm.spaces import Images

    kit = SeedKit.load(args.run)
    images = kit.generate(args.source, args.n, torch.Generator().manual_seed(args.seed))
    sheet = tile_grid(images, Images(8, 8))
    save_image(args.out, torch.as_tensor(sheet).reshape(1, -1), Images(*sheet.shape), args.scale)
    print(json.dumps({"wrote": args.out, "source": args.source, "n": args.n}))
    return 0


def _study(args: argparse.Namespace) -> int:
    import sys

    from qgm.art.study import QUICK, run_study, to_markdown

    settings = dict(QUICK) if args.quick else {}
    if args.seeds:
        try:
            settings["seeds"] = tuple(int(s) for s in args.seeds.split(","))
        except ValueError:
            raise ConfigError(f"--seeds: expected comma-separated integers, got {args.seeds!r}") from None

    def progress(seed, novelty):
        print(f"seed {seed}: novelty {json.dumps({k: round(v, 4) for k, v in novelty.items()})}", file=sys.stderr)

    result = run_study(settings, progress)
    table = to_markdown(result)
    print(table)
    if args.json:
        from qgm.atomic import atomic_json

        atomic_json(args.json, result)
    if args.markdown:
        from qgm.atomic import atomic_text

        atomic_text(args.markdown, table)
    return 0


_ACTIONS = {"blur": _blur, "mix": _mix, "collage": _collage, "decohere": _decohere,
            "train-seeds": _train_seeds, "seeds": _seeds, "study": _study}


@command("art", "quantum image brushes (blur, mix, collage, decohere) and quantum latent seeds", _art_args)
def _art(args: argparse.Namespace) -> int:
    if getattr(args, "frames", 1) < 1:
        raise ConfigError(f"--frames: expected a positive integer, got {args.frames}")
    if getattr(args, "scale", 1) < 1:
        raise ConfigError(f"--scale: expected a positive integer, got {args.scale}")
    for name in ("out", "out2", "json", "markdown"):
        if getattr(args, name, None):
            output_file(getattr(args, name), f"--{name}")
    return _ACTIONS[args.art_command](args)

