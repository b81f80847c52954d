"""virtwire's `pulumi-language-python`: the Pulumi CLI's language host for Python programs.

Pulumi's own host is a Go program whose module the Go module proxy here refuses at every version
(see README.md), so this one is written for virtwire's tests, as ../pulumi-cli/language-host is
for Node.js. It uses the gRPC stubs that the `pulumi` package from PyPI ships and runs in a venv
that has that package (scripts/pulumi-python.sh makes it).

Plugin contract (the CLI's newPlugin): started in the project directory with the engine's address
as the last argument, it prints the port it listens on (127.0.0.1) as one line on stdout.

    pulumi-language-python [-flag[=value]...] <engine address>
"""

import json
import os
import subprocess
import sys
from concurrent import futures

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import language_pb2, language_pb2_grpc, plugin_pb2

VERSION = "0.1.0"
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "run.py")
# The exit code of run.py after it reported the program's error through the engine: the CLI then
# only says the update failed ("bail"), as for Pulumi's own host.
BAIL_EXIT = 32
MAX_MESSAGE_BYTES = 400 * 1024 * 1024


def python_for(info):
    """The program's Python: the `virtualenv` runtime option's, else the one this host runs on."""
    options = dict(info.options) if info.HasField("options") else {}
    venv = options.get("virtualenv")
    if venv:
        venv = os.path.join(info.root_directory, venv)
        return os.path.join(venv, "bin", "python")
    return sys.executable


class LanguageRuntime(language_pb2_grpc.LanguageRuntimeServicer):
    def __init__(self, engine_address):
        self.engine_address = engine_address
        self.running = set()

    def Handshake(self, request, context):
        return language_pb2.LanguageHandshakeResponse()

    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version=VERSION)

    # Nothing to download: virtwire's plugin is on PATH, beside the CLI, or installed with
    # `pulumi plugin install`.
    def GetRequiredPlugins(self, request, context):
        return language_pb2.GetRequiredPluginsResponse()

    def GetRequiredPackages(self, request, context):
        return language_pb2.GetRequiredPackagesResponse()

    def RuntimeOptionsPrompts(self, request, context):
        return language_pb2.RuntimeOptionsResponse()

    def GetProgramDependencies(self, request, context):
        return language_pb2.GetProgramDependenciesResponse()

    def About(self, request, context):
        return language_pb2.AboutResponse(
            executable=sys.executable, version=sys.version.split()[0]
        )

    def InstallDependencies(self, request, context):
        return iter(())

    def Run(self, request, context):
        info = request.info
        program = os.path.join(info.program_directory or request.pwd, info.entry_point or ".")
        args = [
            python_for(info), "-u", RUNNER,
            "--monitor", request.monitor_address,
            "--engine", self.engine_address,
            "--project", request.project,
            "--stack", request.stack,
            "--organization", request.organization,
            "--root-directory", info.root_directory or request.pwd,
            "--parallel", str(request.parallel),
        ]
        if request.dryRun:
            args.append("--dry-run")
        args += [program, *request.args]
        env = dict(os.environ)
        env["PULUMI_CONFIG"] = json.dumps(dict(request.config))
        env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(list(request.configSecretKeys))
        # The program's output is the host's: the CLI shows it.
        process = subprocess.Popen(args, cwd=request.pwd or None, env=env)
        self.running.add(process)
        try:
            code = process.wait()
        finally:
            self.running.discard(process)
        if code == 0:
            return language_pb2.RunResponse()
        if code == BAIL_EXIT:
            return language_pb2.RunResponse(bail=True)
        return language_pb2.RunResponse(error=f"Program exited with non-zero exit code: {code}")

    def Cancel(self, request, context):
        for process in list(self.running):
            process.terminate()
        return empty_pb2.Empty()


def main():
    positional = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    if not positional:
        sys.stderr.write("usage: pulumi-language-python [flags] <engine address>\n")
        sys.exit(2)
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=8),
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    language_pb2_grpc.add_LanguageRuntimeServicer_to_server(LanguageRuntime(positional[-1]), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)
    try:
        server.wait_for_termination()
    except KeyboardInterrupt:  # the CLI stops its plugins with SIGINT when it is done
        server.stop(0)


if __name__ == "__main__":
    main()
