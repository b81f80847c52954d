/**
 * virtwire: libvirt for Pulumi, in pure TypeScript.
 *
 *   import * as virtwire from "virtwire";
 *   const pool = new virtwire.Pool("images", { type: "dir", targetPath: "/var/lib/libvirt/images/lab" });
 *
 * Subpaths: `virtwire/rpc` (the libvirt RPC client), `virtwire/provider` (the dynamic provider).
 */
export * from "./sdk";
export * as rpc from "./rpc";
