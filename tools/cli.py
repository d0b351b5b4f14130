"""Operate this repository's environments: ``python -m tools.cli render|verify --env NAME``.

Exit codes:

====  ==========================================================================
0     every check holds (``verify``), or the configs were printed (``render``)
1     at least one check failed (``verify``)
2     usage error, or the checks could not run: no credentials or region, no stacks
      for the environment, throttling after retries, access denied, unknown env
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
        epilog="Exit codes: 0 all good, 1 a check failed, 2 usage or AWS access problem.",
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

    render = commands.add_parser(
        "render",
        help="print the rendered collector configurations of an environment",
        description="Render every collector configuration of an environment from cdk.json.",
    )
    render.add_argument("--env", required=True, help="environment name (as in cdk.json)")
    render.add_argument(
        "--app-dir",
        type=Path,
        default=None,
        help="directory holding cdk.json (default: this repository's root)",
    )
    return parser


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
    if args.command == "verify":
        return _verify(
            args,
            session_factory if session_factory is not None else _default_session,
            out,
            err,
        )
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


def _render(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from otel_fargate import OtelFargateError

    from tools.render import REPO_ROOT, load_environments, render_environment

    app_dir = args.app_dir if args.app_dir is not None else REPO_ROOT
    cdk_json = app_dir / "cdk.json"
    if not cdk_json.is_file():
        print(f"error: --app-dir: no cdk.json in {app_dir}", file=err)
        return EXIT_USAGE
    try:
        settings = load_environments(cdk_json)
        if args.env not in settings:
            known = ", ".join(sorted(settings)) or "none"
            print(f"error: --env: unknown environment {args.env!r} (known: {known})", file=err)
            return EXIT_USAGE
        rendered = render_environment(settings[args.env])
    except OtelFargateError as error:
        print(f"error: {error}", file=err)
        return EXIT_USAGE
    for index, (name, config) in enumerate(rendered.items()):
        if index:
            print("---", file=out)
        print(f"# {args.env}: {name}", file=out)
        print(config.yaml.rstrip("\n"), file=out)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
