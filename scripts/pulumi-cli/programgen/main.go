// Command programgen is the GenerateProgram call of virtwire's Node.js language host
// (../language-host): it turns the PCL that `pulumi import` (and `pulumi convert`) sends into a
// TypeScript program with Pulumi's own generator, pkg/v3/codegen/nodejs, the one upstream's
// pulumi-language-nodejs runs. The Go module proxy here refuses that host's module, so our host
// delegates this one call to this program, built at the CLI's version (see ../README.md).
//
//	programgen < GenerateProgramRequest > GenerateProgramResponse
//
// Both messages are pulumirpc's, protobuf-encoded. Schemas come from the engine's schema loader
// at the request's loader_target, as in upstream's host, so the generator sees the provider's
// schema exactly as the engine does. Errors go to stderr with exit status 1; diagnostics of the
// PCL (binding or generation) are part of the response.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pulumi/pulumi/pkg/v3/codegen/hcl2/syntax"
	"github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/proto"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "programgen: %v\n", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	raw, err := io.ReadAll(in)
	if err != nil {
		return err
	}
	var req pulumirpc.GenerateProgramRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		return fmt.Errorf("reading the GenerateProgramRequest: %w", err)
	}
	resp, err := generate(&req)
	if err != nil {
		return err
	}
	encoded, err := proto.Marshal(resp)
	if err != nil {
		return err
	}
	_, err = out.Write(encoded)
	return err
}

// generate parses and binds the PCL files and generates TypeScript from them, as upstream's
// host does: non-strict binding unless asked, because `pulumi import` may refer to a parent or a
// provider that the generated code leaves unbound.
func generate(req *pulumirpc.GenerateProgramRequest) (*pulumirpc.GenerateProgramResponse, error) {
	loader, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, fmt.Errorf("connecting to the schema loader at %q: %w", req.GetLoaderTarget(), err)
	}
	defer loader.Close()

	parser := syntax.NewParser()
	for name, contents := range req.GetSource() {
		if err := parser.ParseFile(strings.NewReader(contents), name); err != nil {
			return nil, err
		}
		if parser.Diagnostics.HasErrors() {
			return &pulumirpc.GenerateProgramResponse{
				Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(parser.Diagnostics),
			}, nil
		}
	}

	var options []pcl.BindOption
	if !req.GetStrict() {
		options = pcl.NonStrictBindOptions()
	}
	program, diags, err := pcl.BindProgram(parser.Files, schema.NewCachedLoader(loader), options...)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GenerateProgramResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
	if diags.HasErrors() {
		return resp, nil
	}
	if program == nil {
		return nil, errors.New("binding the PCL gave no program and no error")
	}

	files, diags, err := nodejs.GenerateProgram(program)
	if err != nil {
		return nil, err
	}
	resp.Source = files
	resp.Diagnostics = append(resp.Diagnostics, plugin.HclDiagnosticsToRPCDiagnostics(diags)...)
	return resp, nil
}
