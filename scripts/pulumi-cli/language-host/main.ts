/**
 * virtwire's `pulumi-language-nodejs`: the Pulumi CLI's language host for Node.js programs,
 * written for virtwire's tests and quick start (see ../README.md for why).
 *
 * Plugin contract (the CLI's newPlugin): the CLI starts the host in the project directory with
 * the engine's gRPC address as the last argument, reads one line from stdout, the port the host
 * listens on (127.0.0.1), and then dials it. Anything written to stdout or stderr afterwards,
 * including the program's own output, is shown to the user as diagnostics.
 *
 *   pulumi-language-nodejs [-flag[=value]…] <engine address>
 */
import * as grpc from "@grpc/grpc-js";
import { LanguageRuntimeService } from "@pulumi/pulumi/proto/language_grpc_pb";
import { languageRuntime } from "./language-runtime";
import { exitWithParent } from "./parent-watch";
import { cancelPrograms } from "./run-program";

/** As large as the engine's own limit: config and programs' arguments can be big. */
const MAX_MESSAGE_BYTES = 400 * 1024 * 1024;

/** Flags other CLI versions pass (-tracing, -root …) are accepted and ignored. */
function engineAddressFrom(argv: string[]): string {
  const positional = argv.filter((arg) => !arg.startsWith("-"));
  const address = positional[positional.length - 1];
  if (!address) {
    process.stderr.write("usage: pulumi-language-nodejs [flags] <engine address>\n");
    process.exit(2);
  }
  return address;
}

function main(): void {
  const engineAddress = engineAddressFrom(process.argv.slice(2));
  // A CLI killed with SIGKILL leaves its plugins running; stop the program with the CLI.
  exitWithParent(cancelPrograms);
  const server = new grpc.Server({
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
  });
  server.addService(
    LanguageRuntimeService,
    languageRuntime(engineAddress) as grpc.UntypedServiceImplementation,
  );
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      process.stderr.write(`pulumi-language-nodejs: cannot listen: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write(`${port}\n`);
  });
}

main();
