"""Operate this repository's environments:
``python -m tools.cli render|cost|verify|rotate-token --env NAME``.

Exit codes:

====  ==========================================================================
0     every check holds (``verify``), the configs or costs were printed (``render``,
      ``cost``), or the token was rotated (``rotate-token``)
1     at least one check failed (``verify``); the rotation was refused or a
      rollout failed (``rotate-token``, the message says what state it left)
2     usage error, or the command could not run: no credentials or region, no
      stacks for the environment, throttling after retries, access denied,
      unknown env, no gateway reading two tokens (``rotate-token``: nothing changed)
====  ==========================================================================
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

if TYPE_CHECKING:
    import boto3

    from stacks.settings import EnvironmentSettings

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2

SessionFactory = Callable[..., "boto3.Session"]


def _default_session(**kwargs: Any) -> boto3.Session:
    import boto3

    return boto3.Session(**kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``otel-fargate``."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.cli",
        description="Operate OpenTelemetry Collector deployments on ECS Fargate.",
        epilog=(
            "Exit codes: 0 all good, 1 a check failed, 2 usage or AWS access problem "
            "(rotate-token: 1 when the rotation was refused or a rollout failed)."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    verify = commands.add_parser(
        "verify",
        help="check that a deployed environment is healthy",
        description=(
            "Check the stacks otel-fargate-<env>-*: stack status, ECS deployments, running "
            "vs desired tasks, otel-collector container health, Service Connect "
            "registration of otel-gateway, collector ERROR log lines of the last 15 minutes "
            "and alarm states."
        ),
    )
    verify.add_argument("--env", required=True, help="environment name (as in cdk.json)")
    verify.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    verify.add_argument("--profile", help="AWS profile (default: from the AWS configuration)")
    verify.add_argument("--json", action="store_true", help="print machine-readable JSON")

    _add_rotate_parser(commands)

    render = commands.add_parser(
        "render",
        help="print the rendered collector configurations of an environment",
        description="Render every collector configuration of an environment from cdk.json.",
    )
    _add_environment_arguments(render)
    _add_cost_parser(commands)
    return parser


def _add_environment_arguments(parser: argparse.ArgumentParser) -> None:
    """``--env`` and ``--app-dir``: an environment of a cdk.json, read without AWS."""
    parser.add_argument("--env", required=True, help="environment name (as in cdk.json)")
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=None,
        help="directory holding cdk.json (default: this repository's root)",
    )


#: What ``cost`` does, as its ``--help`` says it.
COST_DESCRIPTION: Final = (
    "Count, from each collector's rendered configuration, the CloudWatch metric series it "
    "publishes (per task and in total at the autoscaling maximum), the metrics its alarms read "
    "and its dashboards, and price them at the public list prices. Nothing is deployed and no "
    "AWS call is made."
)


def _add_cost_parser(commands: Any) -> None:
    help_ = "print what an environment's collectors cost in CloudWatch a month"
    cost = commands.add_parser("cost", help=help_, description=COST_DESCRIPTION)
    _add_environment_arguments(cost)
    cost.add_argument("--json", action="store_true", help="print machine-readable JSON")


def _timeout_seconds(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError:
        seconds = 0
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds > 0, got {text!r}")
    return seconds


def _add_rotate_parser(commands: Any) -> None:
    from tools.rotate import DEFAULT_TIMEOUT_SECONDS

    rotate = commands.add_parser(
        "rotate-token",
        help="rotate the gateway bearer token: new token, gateways, then agents",
        description=(
            "Rotate the bearer token of the gateway of stack otel-fargate-<env>-gateway "
            "without refusing any agent: write a new random token into the gateway's previous-"
            "token secret, redeploy the gateway services and wait until they are stable, make "
            "the new token current (the old one becomes the previous), then redeploy every ECS "
            "service of the region whose task definition reads the current token secret (the "
            "agents) and wait for them. Refuses while agent tasks older than the current token "
            "are running, and while another rotation holds the lock (a staging label on the "
            "previous-token secret): --wait waits for it, --resume continues an interrupted one."
        ),
    )
    rotate.add_argument("--env", required=True, help="environment name (as in cdk.json)")
    rotate.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    rotate.add_argument("--profile", help="AWS profile (default: from the AWS configuration)")
    rotate.add_argument(
        "--timeout",
        type=_timeout_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"seconds each rollout phase may take (default: {DEFAULT_TIMEOUT_SECONDS})",
    )
    rotate.add_argument(
        "--dry-run", action="store_true", help="print what would be rotated and redeployed"
    )
    rotate.add_argument(
        "--force",
        action="store_true",
        help="rotate even while agent tasks older than the current token run (they would be "
        "refused afterwards)",
    )
    rotate.add_argument(
        "--wait",
        action="store_true",
        help="when another rotation holds the lock, wait for it (up to --timeout) instead of "
        "refusing",
    )
    rotate.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted rotation that still holds the lock, from where it stopped",
    )


def main(
    argv: Sequence[str] | None = None,
    *,
    session_factory: SessionFactory | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``otel-fargate`` and return its exit code.

    :param argv: arguments without the program name. default: ``sys.argv[1:]``.
    :param session_factory: builds the boto3 session from ``profile_name``/``region_name``.
        default: ``boto3.Session``.
    """
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code) if isinstance(exit_.code, int) else EXIT_USAGE
    factory = session_factory if session_factory is not None else _default_session
    if args.command == "verify":
        return _verify(args, factory, out, err)
    if args.command == "rotate-token":
        return _rotate(args, factory, out, err)
    if args.command == "cost":
        return _cost(args, out, err)
    return _render(args, out, err)


def _verify(args: argparse.Namespace, factory: SessionFactory, out: TextIO, err: TextIO) -> int:
    from botocore.exceptions import BotoCoreError

    from tools.verify import VerifyError, all_ok, format_json, format_table, verify_environment

    try:
        kwargs = {
            k: v
            for k, v in (("profile_name", args.profile), ("region_name", args.region))
            if v is not None
        }
        try:
            session = factory(**kwargs)
        except BotoCoreError as error:
            raise VerifyError(str(error)) from error
        results = verify_environment(session, args.env, region=args.region)
    except VerifyError as error:
        print(f"error: {error}", file=err)
        return EXIT_USAGE
    region = args.region if args.region is not None else session.region_name
    if args.json:
        print(format_json(args.env, region, results), file=out)
    else:
        print(f"otel-fargate environment {args.env} ({region})", file=out)
        print(format_table(results), file=out)
        failed = sum(1 for r in results if not r.ok)
        print(
            "all checks passed" if failed == 0 else f"{failed} of {len(results)} checks failed",
            file=out,
        )
    return EXIT_OK if all_ok(results) else EXIT_FAILED


def _session(args: argparse.Namespace, factory: SessionFactory) -> boto3.Session:
    from botocore.exceptions import BotoCoreError

    from tools.verify import VerifyError

    kwargs = {
        k: v
        for k, v in (("profile_name", args.profile), ("region_name", args.region))
        if v is not None
    }
    try:
        return factory(**kwargs)
    except BotoCoreError as error:
        raise VerifyError(str(error)) from error


def _rotate(args: argparse.Namespace, factory: SessionFactory, out: TextIO, err: TextIO) -> int:
    from tools.rotate import RotationFailed, Waiting, rotate_token
    from tools.verify import VerifyError

    try:
        rotate_token(
            _session(args, factory),
            args.env,
            out=out,
            region=args.region,
            dry_run=args.dry_run,
            force=args.force,
            wait=args.wait,
            resume=args.resume,
            waiting=Waiting(timeout=args.timeout),
        )
    except VerifyError as error:
        print(f"error: {error}", file=err)
        return EXIT_USAGE
    except RotationFailed as error:
        print(f"error: {error}", file=err)
        return EXIT_FAILED
    return EXIT_OK


def _settings(args: argparse.Namespace, err: TextIO) -> EnvironmentSettings | None:
    """The settings of ``--env`` from the cdk.json of ``--app-dir``; None after printing why not."""
    from otel_fargate import OtelFargateError

    from tools.render import REPO_ROOT, load_environments

    app_dir = args.app_dir if args.app_dir is not None else REPO_ROOT
    cdk_json = app_dir / "cdk.json"
    if not cdk_json.is_file():
        print(f"error: --app-dir: no cdk.json in {app_dir}", file=err)
        return None
    try:
        settings = load_environments(cdk_json)
    except OtelFargateError as error:
        print(f"error: {error}", file=err)
        return None
    if args.env not in settings:
        known = ", ".join(sorted(settings)) or "none"
        print(f"error: --env: unknown environment {args.env!r} (known: {known})", file=err)
        return None
    return settings[args.env]


def _render(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from otel_fargate import OtelFargateError

    from tools.render import render_environment

    settings = _settings(args, err)
    if settings is None:
        return EXIT_USAGE
    try:
        rendered = render_environment(settings)
    except OtelFargateError as error:
        print(f"error: {error}", file=err)
        return EXIT_USAGE
    for index, (name, config) in enumerate(rendered.items()):
        if index:
            print("---", file=out)
        print(f"# {args.env}: {name}", file=out)
        print(config.yaml.rstrip("\n"), file=out)
    return EXIT_OK


def _cost(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from otel_fargate import OtelFargateError

    from tools.cost import collector_costs, format_json, format_table
    from tools.render import build_app

    settings = _settings(args, err)
    if settings is None:
        return EXIT_USAGE
    try:
        costs = collector_costs(build_app(settings))
    except OtelFargateError as error:
        print(f"error: {error}", file=err)
        return EXIT_USAGE
    print((format_json if args.json else format_table)(costs, environment=args.env), file=out)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
