"""Runs one Pulumi Python program for host.py, in the program's own Python.

    run.py --monitor A --engine A --project P --stack S --organization O --root-directory D
           --parallel N [--dry-run] <program file or directory> [args...]

Config comes in PULUMI_CONFIG and PULUMI_CONFIG_SECRET_KEYS (JSON), which the SDK reads itself.
Exit 0: success; 32: the program failed and the error was reported through the engine.
"""

import argparse
import asyncio
import os
import runpy
import sys
import traceback

import pulumi
from pulumi.runtime import settings, stack

BAIL_EXIT = 32


def run_program(program):
    runpy.run_path(program, run_name="__main__")


def main():
    parser = argparse.ArgumentParser()
    for flag in ("--monitor", "--engine", "--project", "--stack", "--organization"):
        parser.add_argument(flag, default="")
    parser.add_argument("--root-directory", default="")
    parser.add_argument("--parallel", type=int, default=0)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("program")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    options = parser.parse_args()

    settings.configure(
        settings.Settings(
            project=options.project,
            stack=options.stack,
            monitor=options.monitor,
            engine=options.engine,
            parallel=options.parallel,
            dry_run=options.dry_run,
            organization=options.organization or None,
            root_directory=options.root_directory or None,
        )
    )
    program = os.path.abspath(options.program)
    # A directory runs its __main__.py, a file itself; its directory is importable, as for
    # `python <program>`.
    sys.path.insert(0, program if os.path.isdir(program) else os.path.dirname(program))
    sys.argv = [program, *options.args]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(stack.run_in_stack(lambda: run_program(program)))
    except Exception as error:  # the program's own error: report it through the engine, then bail
        if isinstance(error, pulumi.RunError):
            message = str(error)
        else:
            message = "Program failed with an unhandled exception:\n" + traceback.format_exc()
        pulumi.log.error(message)
        sys.exit(BAIL_EXIT)
    finally:
        loop.close()


if __name__ == "__main__":
    main()
