/**
 * A representative set of calls, run over each transport, so that every transport is shown to
 * carry real RPC traffic: version, host name, listing, a typed not-found error, a define/undefine
 * round trip and many concurrent calls. Also the error a connection attempt must fail with.
 */
import { Libvirt, isNotFound } from "../../rpc";
import { uniqueName } from "./testbed";

/** Runs the calls on an open connection; throws (via expect) on the first difference. */
export async function exerciseConnection(lv: Libvirt): Promise<void> {
  const { lib_ver } = await lv.ConnectGetLibVersion();
  expect(lib_ver).toBeGreaterThanOrEqual(9_000_000n);
  const { hostname } = await lv.ConnectGetHostname();
  expect(hostname.length).toBeGreaterThan(0);

  const { domains, ret } = await lv.ConnectListAllDomains({ need_results: 1, flags: 0 });
  expect(ret).toBe(domains.length);

  const missing = uniqueName("missing");
  const error = await lv.DomainLookupByName({ name: missing }).catch((e: unknown) => e);
  expect(isNotFound(error)).toBe(true);
  expect((error as Error).message).toContain(missing);

  const name = uniqueName("transport");
  const { net } = await lv.NetworkDefineXML({
    xml: `<network><name>${name}</name><bridge name="vwt${name.slice(-6)}"/></network>`,
  });
  try {
    expect(net.name).toBe(name);
    await expect(lv.NetworkLookupByName({ name })).resolves.toEqual({ net });
  } finally {
    await lv.NetworkUndefine({ net });
  }
  expect(isNotFound(await lv.NetworkLookupByName({ name }).catch((e: unknown) => e))).toBe(true);

  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      i % 2 === 0 ? lv.ConnectGetHostname() : lv.ConnectGetLibVersion(),
    ),
  );
  expect(answers.filter((a) => "hostname" in a && a.hostname === hostname)).toHaveLength(25);
  expect(answers.filter((a) => "lib_ver" in a && a.lib_ver === lib_ver)).toHaveLength(25);
}

/** Connects, exercises and closes. */
export async function connectAndExercise(
  uri: string,
  options: Parameters<typeof Libvirt.connect>[1] = {},
): Promise<Libvirt> {
  const lv = await Libvirt.connect(uri, options);
  try {
    await exerciseConnection(lv);
  } finally {
    await lv.close();
  }
  return lv;
}

/** The error connecting fails with; a connection that opens instead is closed and fails the test. */
export async function connectFailure(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    (value) => value,
    (error: unknown) => error,
  );
  if (result instanceof Libvirt) {
    await result.close();
    throw new Error("the connection was expected to fail");
  }
  expect(result).toBeInstanceOf(Error);
  return result as Error;
}
