/**
 * virtwire: libvirt for Pulumi, in pure TypeScript.
 *
 * The package entry re-exports the RPC client for now; the Pulumi resources join it as they land.
 * Subpaths: `virtwire/rpc` (the libvirt RPC client), `virtwire/provider` (the dynamic provider).
 */
export * as rpc from "./rpc";
